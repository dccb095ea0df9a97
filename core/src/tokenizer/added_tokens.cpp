#include "tokenizer/added_tokens.h"

#include <algorithm>

#include <utf8proc.h>

#include "tokenizer/normalizers.h"
#include "tokenizer/utf8.h"

namespace attnscope::tok {

void AddedVocabulary::load(const JsonCtx& ctx, const json& list, int64_t maxId) {
    if (list.is_null()) return;
    if (!list.is_array()) badInput(ctx, "\"added_tokens\" must be an array");
    for (size_t i = 0; i < list.size(); ++i) {
        const json& t = list[i];
        JsonCtx c{ctx.file + " added_tokens[" + std::to_string(i) + "]", ctx.depth};
        AddedToken a;
        const int64_t id = intOr(c, t, "id", -1);
        if (id < 0 || id > maxId) badInput(c, "\"id\" is missing or out of range");
        a.id = int32_t(id);
        a.content = stringField(c, t, "content");
        a.special = boolOr(c, t, "special", false);
        a.lstrip = boolOr(c, t, "lstrip", false);
        a.rstrip = boolOr(c, t, "rstrip", false);
        a.singleWord = boolOr(c, t, "single_word", false);
        a.normalized = boolOr(c, t, "normalized", !a.special);
        if (a.content.empty()) continue;  // would match everywhere; HF never splits on it
        m_tokens.push_back(std::move(a));
    }
}

void AddedVocabulary::prepare(const Normalizer* normalizer) {
    std::vector<std::string> raw, norm;
    std::vector<size_t> rawIdx, normIdx;
    for (size_t i = 0; i < m_tokens.size(); ++i) {
        const AddedToken& t = m_tokens[i];
        if (t.normalized && normalizer) {
            std::string c = t.content;
            normalizer->normalize(c);
            norm.push_back(c);
            normIdx.push_back(i);
        } else if (t.normalized) {
            norm.push_back(t.content);
            normIdx.push_back(i);
        } else {
            raw.push_back(t.content);
            rawIdx.push_back(i);
        }
    }
    m_raw.build(raw, rawIdx);
    m_norm.build(norm, normIdx);
}

void AddedTokenMatcher::build(const std::vector<std::string>& contents,
                              const std::vector<size_t>& which) {
    m_nodes.assign(1, Node{});
    for (size_t k = 0; k < contents.size(); ++k) {
        if (contents[k].empty()) continue;
        int32_t node = 0;
        for (unsigned char c : contents[k]) {
            auto& ch = m_nodes[size_t(node)].children;
            auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(c, int32_t(-1)));
            if (it != ch.end() && it->first == c) {
                node = it->second;
            } else {
                const int32_t fresh = int32_t(m_nodes.size());
                ch.insert(it, {c, fresh});
                m_nodes.push_back(Node{});  // invalidates `ch`, no longer used
                node = fresh;
            }
        }
        // Two tokens with one content: the first listed wins.
        if (m_nodes[size_t(node)].token < 0) m_nodes[size_t(node)].token = int32_t(which[k]);
    }
}

namespace {

bool isWordChar(char32_t cp) {
    if (cp == '_') return true;
    const auto c = utf8proc_category(utf8proc_int32_t(cp));
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

char32_t lastChar(std::string_view s) {
    size_t b = previousCharStart(s, 0, s.size());
    return nextCodePoint(s, b);
}

char32_t firstChar(std::string_view s) {
    size_t p = 0;
    return nextCodePoint(s, p);
}

}  // namespace

std::vector<Segment> AddedTokenMatcher::split(std::string_view text,
                                              const std::vector<AddedToken>& tokens) const {
    std::vector<Segment> out;
    size_t done = 0;  // text before this offset is already in `out`
    size_t pos = 0;   // where the search for the next match resumes
    while (!empty() && pos < text.size()) {
        // Leftmost start, then the longest token starting there.
        size_t mStart = text.size(), mEnd = 0;
        int32_t mTok = -1;
        for (size_t s = pos; s < text.size() && mTok < 0; ++s) {
            int32_t node = 0;
            for (size_t k = s; k < text.size(); ++k) {
                const auto& ch = m_nodes[size_t(node)].children;
                const unsigned char c = static_cast<unsigned char>(text[k]);
                auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(c, int32_t(-1)));
                if (it == ch.end() || it->first != c) break;
                node = it->second;
                if (m_nodes[size_t(node)].token >= 0) {
                    mTok = m_nodes[size_t(node)].token;
                    mStart = s;
                    mEnd = k + 1;
                }
            }
        }
        if (mTok < 0) break;
        const AddedToken& t = tokens[size_t(mTok)];
        size_t start = mStart, stop = mEnd;
        pos = mEnd;
        if (t.singleWord) {
            const bool spaceBefore = start == 0 || !isWordChar(lastChar(text.substr(0, start)));
            const bool spaceAfter = stop == text.size() || !isWordChar(firstChar(text.substr(stop)));
            if (!spaceBefore || !spaceAfter) continue;  // inside a word: not this token
        }
        if (t.lstrip) start = skipWhitespaceBack(text, done, start);
        if (t.rstrip) pos = stop = skipWhitespace(text, stop, text.size());
        if (start > done) out.push_back({-1, done, start});
        out.push_back({tokens[size_t(mTok)].id, start, stop});
        done = stop;
    }
    if (done < text.size()) out.push_back({-1, done, text.size()});
    return out;
}

}  // namespace attnscope::tok
