// llama2.c's tokenizer.bin: int32 max_token_length, then per token float32 score,
// int32 length, bytes. Encoding replays run.c's encode() (dummy-prefix space, code
// point lookup, byte fallback at byte + 3, greedy highest-score pair merging) with a
// heap instead of its quadratic rescans; ties go to the leftmost pair, as there.
#include <algorithm>
#include <cstring>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/string_map.h"

namespace attnscope {

namespace {

using namespace tok;

constexpr int32_t kMaxVocab = 1 << 22;
constexpr int32_t kMaxTokenLength = 1 << 16;
constexpr size_t kMaxFileBytes = size_t(256) << 20;
constexpr int32_t kBos = 1, kEos = 2, kByteBase = 3;
constexpr float kNoMerge = -1e10f;  // run.c's initial best score: pairs at or below never merge

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

class Llama2cTokenizer final : public Tokenizer {
public:
    Llama2cTokenizer(const std::string& path, int32_t vocabSize);

    std::vector<int32_t> encode(std::string_view text, bool addSpecial) const override;
    std::string decode(const std::vector<int32_t>& ids) const override;
    std::string piece(int32_t id) const override {
        return id >= 0 && id < vocabSize() ? m_pieces[size_t(id)] : std::string();
    }
    int32_t vocabSize() const override { return int32_t(m_pieces.size()); }
    int32_t bosId() const override { return kBos; }
    int32_t eosId() const override { return kEos; }
    bool isSpecial(int32_t id) const override { return id >= 0 && id <= kEos; }

private:
    int32_t lookup(std::string_view s) const {
        const int32_t* id = m_index.find(s);
        return id ? *id : -1;
    }

    std::vector<std::string> m_pieces;
    std::vector<float> m_scores;
    StringIndex m_index;
};

Llama2cTokenizer::Llama2cTokenizer(const std::string& path, int32_t vocabSize) {
    if (vocabSize < kByteBase + 256 || vocabSize > kMaxVocab)
        fail(ErrorKind::BadInput, path + ": vocabulary size " + std::to_string(vocabSize) +
                                      " out of range (byte fallback needs ids 3..258)");
    const std::string data = readFileLimited(path, kMaxFileBytes);
    size_t pos = 0;
    const auto need = [&](size_t n, const std::string& what) {
        if (data.size() - pos < n)
            fail(ErrorKind::BadInput, path + ": truncated (" + what + " at byte " + std::to_string(pos) + ")");
    };
    const auto readI32 = [&](const std::string& what) {
        need(4, what);
        int32_t v;
        std::memcpy(&v, data.data() + pos, 4);  // the format is little-endian, like our hosts
        pos += 4;
        return v;
    };
    const int32_t maxLen = readI32("max_token_length");
    if (maxLen < 1 || maxLen > kMaxTokenLength)
        fail(ErrorKind::BadInput, path + ": max_token_length " + std::to_string(maxLen) + " out of range");
    // Every token takes at least 8 bytes: check before allocating for vocabSize of them.
    if ((data.size() - pos) / 8 < size_t(vocabSize))
        fail(ErrorKind::BadInput, path + ": truncated (" + std::to_string(vocabSize) +
                                      " tokens cannot fit in " + std::to_string(data.size()) + " bytes)");
    m_pieces.resize(size_t(vocabSize));
    m_scores.resize(size_t(vocabSize));
    m_index.reserve(size_t(vocabSize));
    for (int32_t i = 0; i < vocabSize; ++i) {
        need(4, "score of token " + std::to_string(i));
        std::memcpy(&m_scores[size_t(i)], data.data() + pos, 4);
        pos += 4;
        const int32_t len = readI32("length of token " + std::to_string(i));
        if (len < 0 || len > maxLen)
            fail(ErrorKind::BadInput, path + ": token " + std::to_string(i) + " has length " +
                                          std::to_string(len) + " (max_token_length " +
                                          std::to_string(maxLen) + ")");
        need(size_t(len), "bytes of token " + std::to_string(i));
        m_pieces[size_t(i)].assign(data.data() + pos, size_t(len));
        pos += size_t(len);
        // Duplicated pieces: run.c's bsearch may find any of them; we keep the lowest id.
        m_index.insert(m_pieces[size_t(i)], i);
    }
}

std::vector<int32_t> Llama2cTokenizer::encode(std::string_view text, bool addSpecial) const {
    std::vector<int32_t> t;
    t.reserve(text.size() + 2);
    if (addSpecial) t.push_back(kBos);
    if (!text.empty()) {
        // run.c emits whatever str_lookup(" ") returns, -1 included; we skip a missing one.
        if (const int32_t sp = lookup(" "); sp >= 0) t.push_back(sp);
    }
    // Group a lead byte with up to 3 following continuation bytes, as run.c does; unlike
    // run.c (C strings) a NUL byte is one more byte to fall back on, not the end.
    for (size_t i = 0; i < text.size();) {
        size_t n = 1;
        while (i + n < text.size() && n < 4 && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80)
            ++n;
        const std::string_view cp = text.substr(i, n);
        const int32_t id = lookup(cp);
        if (id >= 0) {
            t.push_back(id);
        } else {
            for (unsigned char b : cp) t.push_back(kByteBase + b);
        }
        i += n;
    }

    // Merge: the pair whose concatenation is a token with the highest score, leftmost first.
    const int32_t n = int32_t(t.size());
    std::vector<int32_t> next(static_cast<size_t>(n)), prev(static_cast<size_t>(n));
    std::vector<char> alive(size_t(n), 1);
    for (int32_t k = 0; k < n; ++k) {
        next[size_t(k)] = k + 1 < n ? k + 1 : -1;
        prev[size_t(k)] = k - 1;
    }
    struct Cand { float score; int32_t pos; int32_t left, right, merged; };
    const auto worse = [](const Cand& a, const Cand& b) {
        return a.score != b.score ? a.score < b.score : a.pos > b.pos;
    };
    std::vector<Cand> heap;
    std::string buf;
    const auto candidate = [&](int32_t l, int32_t r) {
        buf = m_pieces[size_t(t[size_t(l)])];
        buf += m_pieces[size_t(t[size_t(r)])];
        const int32_t id = lookup(buf);
        // NaN never compares greater than run.c's best score, so it never merges.
        if (id < 0 || !(m_scores[size_t(id)] > kNoMerge)) return;
        heap.push_back({m_scores[size_t(id)], l, t[size_t(l)], t[size_t(r)], id});
        std::push_heap(heap.begin(), heap.end(), worse);
    };
    for (int32_t k = 0; k + 1 < n; ++k) candidate(k, k + 1);
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        const Cand c = heap.back();
        heap.pop_back();
        const int32_t l = c.pos, r = alive[size_t(l)] ? next[size_t(l)] : -1;
        if (r < 0 || t[size_t(l)] != c.left || t[size_t(r)] != c.right) continue;  // stale
        t[size_t(l)] = c.merged;
        alive[size_t(r)] = 0;
        next[size_t(l)] = next[size_t(r)];
        if (next[size_t(r)] >= 0) prev[size_t(next[size_t(r)])] = l;
        if (prev[size_t(l)] >= 0) candidate(prev[size_t(l)], l);
        if (next[size_t(l)] >= 0) candidate(l, next[size_t(l)]);
    }
    std::vector<int32_t> out;
    out.reserve(size_t(n) + 1);
    for (int32_t k = n > 0 ? 0 : -1; k >= 0; k = next[size_t(k)]) out.push_back(t[size_t(k)]);
    return out;
}

std::string Llama2cTokenizer::decode(const std::vector<int32_t>& ids) const {
    std::string out;
    int32_t prev = kBos;  // the start of the text behaves as if it followed BOS
    for (int32_t id : ids) {
        if (id < 0 || id >= vocabSize()) continue;
        const std::string& p = m_pieces[size_t(id)];
        const int32_t before = prev;
        prev = id;
        // BOS/EOS stand for no text (run.c never prints them; SentencePiece skips them).
        if (id == kBos || id == kEos) continue;
        std::string_view piece = p;
        if (before == kBos && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
        const int hi = piece.size() == 6 ? hexDigit(piece[3]) : -1;
        const int lo = piece.size() == 6 ? hexDigit(piece[4]) : -1;
        if (hi >= 0 && lo >= 0 && piece.substr(0, 3) == "<0x" && piece[5] == '>') {
            out.push_back(char(hi * 16 + lo));  // "<0xNN>" stands for a raw byte
        } else {
            out.append(piece);
        }
    }
    return out;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::fromLlama2c(const std::string& path, int32_t vocabSize) {
    try {
        return std::make_unique<Llama2cTokenizer>(path, vocabSize);
    } catch (const std::bad_alloc&) {
        fail(ErrorKind::OutOfMemory, path + ": out of memory while loading");
    }
}

}  // namespace attnscope
