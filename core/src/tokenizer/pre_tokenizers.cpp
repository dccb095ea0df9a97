#include "tokenizer/pre_tokenizers.h"

#include <algorithm>

#include <utf8proc.h>

#include "tokenizer/byte_level.h"
#include "tokenizer/pattern.h"
#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace attnscope::tok {

std::vector<std::string> splitByMatches(const std::string& text,
                                        const std::vector<std::pair<size_t, size_t>>& matches,
                                        SplitBehavior behavior, bool invert) {
    // Cover the text with (range, isMatch) spans, as HF's find_matches does.
    struct Span { size_t b, e; bool match; };
    std::vector<Span> spans;
    spans.reserve(matches.size() * 2 + 1);
    size_t prev = 0;
    for (const auto& [b, e] : matches) {
        if (b > prev) spans.push_back({prev, b, invert});
        spans.push_back({b, e, !invert});
        prev = e;
    }
    if (prev < text.size()) spans.push_back({prev, text.size(), invert});

    std::vector<Span> out;  // the kept pieces
    out.reserve(spans.size());
    switch (behavior) {
    case SplitBehavior::Removed:
        for (const Span& s : spans)
            if (!s.match) out.push_back(s);
        break;
    case SplitBehavior::Isolated:
        out = spans;
        break;
    case SplitBehavior::Contiguous: {
        bool prevMatch = false;
        for (const Span& s : spans) {
            if (s.match == prevMatch && !out.empty()) out.back().e = s.e;
            else out.push_back(s);
            prevMatch = s.match;
        }
        break;
    }
    case SplitBehavior::MergedWithPrevious: {
        bool prevMatch = false;
        for (const Span& s : spans) {
            if (s.match && !prevMatch && !out.empty()) out.back().e = s.e;
            else out.push_back(s);
            prevMatch = s.match;
        }
        break;
    }
    case SplitBehavior::MergedWithNext: {
        bool prevMatch = false;
        for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
            if (it->match && !prevMatch && !out.empty()) out.back().b = it->b;
            else out.push_back(*it);
            prevMatch = it->match;
        }
        std::reverse(out.begin(), out.end());
        break;
    }
    }
    std::vector<std::string> pieces;
    pieces.reserve(out.size());
    for (const Span& s : out)
        if (s.e > s.b) pieces.push_back(text.substr(s.b, s.e - s.b));  // HF drops empty splits
    return pieces;
}

namespace {

// Replaces every piece by its sub-pieces; only a first sub-piece at offset 0 keeps atStart.
template <typename F>
void refine(std::vector<Piece>& pieces, F&& splitOne) {
    std::vector<Piece> next;
    next.reserve(pieces.size());
    for (Piece& p : pieces) {
        bool first = p.atStart;
        // splitOne may rewrite p.text first (a prefix added); subs are cut from that text.
        std::vector<std::string> subs = splitOne(p);
        for (std::string& sub : subs) {
            const bool start = first && p.text.compare(0, sub.size(), sub) == 0;
            next.push_back({std::move(sub), start});
            first = false;
        }
    }
    pieces = std::move(next);
}

class SequencePre : public PreTokenizer {
public:
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    void apply(std::vector<Piece>& pieces) const override {
        for (const auto& p : parts) p->apply(pieces);
    }
};

SplitBehavior parseBehavior(const JsonCtx& ctx, const std::string& s) {
    if (s == "Removed") return SplitBehavior::Removed;
    if (s == "Isolated") return SplitBehavior::Isolated;
    if (s == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (s == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (s == "Contiguous") return SplitBehavior::Contiguous;
    badInput(ctx, "unknown split behavior \"" + s + "\"");
}

class SplitPre : public PreTokenizer {
public:
    SplitPre(const JsonCtx& ctx, const json& spec)
        : pattern(ctx, field(ctx, spec, "pattern")),
          behavior(parseBehavior(ctx, stringField(ctx, spec, "behavior"))),
          invert(boolOr(ctx, spec, "invert", false)) {}
    Pattern pattern;
    SplitBehavior behavior;
    bool invert;
    void apply(std::vector<Piece>& pieces) const override {
        refine(pieces, [&](const Piece& p) {
            return splitByMatches(p.text, pattern.findAll(p.text), behavior, invert);
        });
    }
};

// GPT-2's pre-tokenization regex (used by ByteLevel when use_regex is true).
constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPre : public PreTokenizer {
public:
    ByteLevelPre(const JsonCtx& ctx, const json& spec)
        : addPrefixSpace(boolOr(ctx, spec, "add_prefix_space", true)) {
        if (boolOr(ctx, spec, "use_regex", true)) regex = std::make_unique<Regex>(kGpt2Regex, ctx.file);
    }
    bool addPrefixSpace;
    std::unique_ptr<Regex> regex;
    void apply(std::vector<Piece>& pieces) const override {
        refine(pieces, [&](Piece& p) {
            if (addPrefixSpace && (p.text.empty() || p.text[0] != ' ')) p.text.insert(0, " ");
            if (!regex) return std::vector<std::string>{p.text};
            return splitByMatches(p.text, regex->findAll(p.text), SplitBehavior::Isolated, false);
        });
        for (Piece& p : pieces) p.text = bytesToChars(p.text);
    }
};

class MetaspacePre : public PreTokenizer {
public:
    enum class Scheme { Always, First, Never };
    MetaspacePre(const JsonCtx& ctx, const json& spec) {
        std::string rep = stringOr(ctx, spec, "replacement", "\xE2\x96\x81");
        singleChar(ctx, rep, "replacement");
        replacement = rep;
        if (hasField(spec, "prepend_scheme")) {
            const std::string s = stringField(ctx, spec, "prepend_scheme");
            if (s == "always") scheme = Scheme::Always;
            else if (s == "first") scheme = Scheme::First;
            else if (s == "never") scheme = Scheme::Never;
            else badInput(ctx, "unknown prepend_scheme \"" + s + "\"");
        } else {
            scheme = boolOr(ctx, spec, "add_prefix_space", true) ? Scheme::Always : Scheme::Never;
        }
        split = boolOr(ctx, spec, "split", true);
    }
    std::string replacement;
    Scheme scheme = Scheme::Always;
    bool split = true;
    void apply(std::vector<Piece>& pieces) const override {
        refine(pieces, [&](Piece& p) {
            std::string t;
            t.reserve(p.text.size() + replacement.size());
            for (char c : p.text) {
                if (c == ' ') t += replacement;
                else t.push_back(c);
            }
            const bool startsWithRep = t.compare(0, replacement.size(), replacement) == 0;
            if (!startsWithRep && (scheme == Scheme::Always || (scheme == Scheme::First && p.atStart)))
                t.insert(0, replacement);
            p.text = t;  // so that refine() sees the prefixed text as the original
            if (!split) return std::vector<std::string>{t};
            std::vector<std::pair<size_t, size_t>> m;
            for (size_t q = t.find(replacement); q != std::string::npos;
                 q = t.find(replacement, q + replacement.size()))
                m.emplace_back(q, q + replacement.size());
            return splitByMatches(t, m, SplitBehavior::MergedWithNext, false);
        });
    }
};

bool isNumeric(char32_t cp) {
    const auto c = utf8proc_category(utf8proc_int32_t(cp));
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

// Matches of a per-character predicate, one match per character.
template <typename Pred>
std::vector<std::pair<size_t, size_t>> charMatches(const std::string& s, Pred pred) {
    std::vector<std::pair<size_t, size_t>> m;
    for (size_t i = 0; i < s.size();) {
        const size_t b = i;
        if (pred(nextCodePoint(s, i))) m.emplace_back(b, i);
    }
    return m;
}

class DigitsPre : public PreTokenizer {
public:
    bool individual = false;
    void apply(std::vector<Piece>& pieces) const override {
        refine(pieces, [&](const Piece& p) {
            return splitByMatches(p.text, charMatches(p.text, isNumeric),
                                  individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous,
                                  false);
        });
    }
};

class WhitespaceSplitPre : public PreTokenizer {
public:
    void apply(std::vector<Piece>& pieces) const override {
        refine(pieces, [&](const Piece& p) {
            return splitByMatches(p.text, charMatches(p.text, isWhitespace), SplitBehavior::Removed,
                                  false);
        });
    }
};

class WhitespacePre : public PreTokenizer {
public:
    explicit WhitespacePre(const JsonCtx& ctx) : regex(R"(\w+|[^\w\s]+)", ctx.file) {}
    Regex regex;
    void apply(std::vector<Piece>& pieces) const override {
        refine(pieces, [&](const Piece& p) {
            return splitByMatches(p.text, regex.findAll(p.text), SplitBehavior::Removed, true);
        });
    }
};

}  // namespace

std::unique_ptr<PreTokenizer> makePreTokenizer(const JsonCtx& ctx, const json& spec) {
    if (spec.is_null()) return nullptr;
    const std::string type = typeOf(ctx, spec, "pre_tokenizer");
    if (type == "Sequence") return makeSequence<SequencePre>(ctx, spec, "pretokenizers", makePreTokenizer);
    if (type == "Split") return std::make_unique<SplitPre>(ctx, spec);
    if (type == "ByteLevel") return std::make_unique<ByteLevelPre>(ctx, spec);
    if (type == "Metaspace") return std::make_unique<MetaspacePre>(ctx, spec);
    if (type == "Digits") {
        auto d = std::make_unique<DigitsPre>();
        d->individual = boolOr(ctx, spec, "individual_digits", false);
        return d;
    }
    if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPre>();
    if (type == "Whitespace") return std::make_unique<WhitespacePre>(ctx);
    unsupported(ctx, "pre_tokenizer type \"" + type + "\" is not supported");
}

}  // namespace attnscope::tok
