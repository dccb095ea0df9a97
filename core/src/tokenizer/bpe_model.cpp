#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>

#include "tokenizer/utf8.h"

namespace attnscope::tok {

namespace {
// Words this short are cached (as HF does below 256 characters); the cache stops
// growing at kCacheEntries so that a huge hostile text cannot exhaust memory.
constexpr size_t kCacheMaxWord = 256;
constexpr size_t kCacheEntries = 200000;
}  // namespace

BpeModel::BpeModel(const JsonCtx& ctx, const json& model) {
    const std::string type = stringOr(ctx, model, "type", "BPE");
    if (type != "BPE") unsupported(ctx, "model type \"" + type + "\" is not supported (only BPE)");

    const json& vocab = field(ctx, model, "vocab");
    if (!vocab.is_object()) badInput(ctx, "model.vocab must be an object");
    m_vocab.reserve(vocab.size());
    int64_t maxId = -1;
    for (const auto& [tok, idj] : vocab.items()) {
        if (!idj.is_number_integer()) badInput(ctx, "model.vocab[\"" + tok + "\"] is not an integer");
        const int64_t id = idj.is_number_unsigned() && idj.get<uint64_t>() > uint64_t(kMaxTokenId)
                               ? kMaxTokenId + 1
                               : idj.get<int64_t>();
        if (id < 0 || id > kMaxTokenId)
            badInput(ctx, "model.vocab[\"" + tok + "\"] has out-of-range id " + idj.dump());
        m_vocab.insert(tok, int32_t(id));
        maxId = std::max(maxId, id);
    }
    // Ids are dense in real files; a sparse hostile one must not make us allocate an
    // id table far larger than the file.
    if (maxId >= int64_t(2 * vocab.size() + 1024))
        badInput(ctx, "model.vocab ids are sparse (largest " + std::to_string(maxId) + " for " +
                          std::to_string(vocab.size()) + " tokens)");
    m_tokens.assign(size_t(maxId + 1), std::string());
    m_vocab.forEach([&](const std::string& tok, int32_t id) {
        if (m_tokens[size_t(id)].empty()) m_tokens[size_t(id)] = tok;
    });

    m_prefix = stringOr(ctx, model, "continuing_subword_prefix", "");
    m_suffix = stringOr(ctx, model, "end_of_word_suffix", "");
    m_fuseUnk = boolOr(ctx, model, "fuse_unk", false);
    m_byteFallback = boolOr(ctx, model, "byte_fallback", false);
    m_ignoreMerges = boolOr(ctx, model, "ignore_merges", false);
    if (hasField(model, "unk_token")) {
        // A named unk token missing from the vocabulary is unusable; HF fails only when it
        // is needed, we then drop the unknown character (as HF does without unk_token).
        if (auto id = find(stringField(ctx, model, "unk_token"))) m_unk = *id;
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto id = find(name);
        m_byteIds[b] = id ? *id : -1;
    }

    const json& merges = arrayField(ctx, model, "merges");
    m_merges.reserve(merges.size());
    std::string merged;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const json& m = merges[rank];
        std::string_view a, b;
        if (m.is_string()) {
            // "a b": tokens never hold a plain space in merge files, so split at the first one.
            const std::string_view s = m.get_ref<const std::string&>();
            const size_t sp = s.find(' ');
            if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos)
                badInput(ctx, "merge " + std::to_string(rank) + " is not \"a b\": " + std::string(s));
            a = s.substr(0, sp);
            b = s.substr(sp + 1);
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            a = m[0].get_ref<const std::string&>();
            b = m[1].get_ref<const std::string&>();
        } else {
            badInput(ctx, "merge " + std::to_string(rank) + " must be \"a b\" or [\"a\", \"b\"]");
        }
        const auto ia = find(a), ib = find(b);
        if (!ia || !ib)
            badInput(ctx, "merge " + std::to_string(rank) + " refers to unknown token \"" +
                              std::string(ia ? b : a) + "\"");
        merged.assign(a);
        merged.append(b.substr(std::min(m_prefix.size(), b.size())));
        const auto im = find(merged);
        if (!im)
            badInput(ctx, "merge " + std::to_string(rank) + " gives unknown token \"" + merged + "\"");
        // Later duplicates overwrite earlier ones, as HF's HashMap collect does.
        m_merges.set(PairMap::pairKey(*ia, *ib), (uint64_t(rank) << 32) | uint32_t(*im));
    }
}

std::optional<int32_t> BpeModel::find(std::string_view token) const {
    const int32_t* id = m_vocab.find(token);
    if (!id) return std::nullopt;
    return *id;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (m_ignoreMerges) {
        // Llama-3: a pre-token that is itself a token is emitted whole.
        if (auto id = find(word)) {
            out.push_back(*id);
            return;
        }
    }
    const bool cacheable = word.size() < kCacheMaxWord;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(m_cacheMutex);
        const auto it = m_cache.find(word);
        if (it != m_cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int32_t> ids = mergeWord(word);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
        std::lock_guard<std::mutex> lock(m_cacheMutex);
        if (m_cache.size() < kCacheEntries) m_cache.emplace(std::string(word), std::move(ids));
    }
}

const PairMap& BpeModel::adjacentChars() const {
    std::call_once(m_adjacentOnce, [this] {
        m_adjacent.reserve(1 << 16);
        // Every key, not m_tokens: two strings may share an id in a hand-written file.
        m_vocab.forEach([&](const std::string& t, int32_t) {
            size_t i = 0;
            if (t.empty()) return;
            char32_t prev = nextCodePoint(t, i);
            while (i < t.size()) {
                const char32_t c = nextCodePoint(t, i);
                m_adjacent.set(PairMap::pairKey(int32_t(prev), int32_t(c)), 1);
                prev = c;
            }
        });
    });
    return m_adjacent;
}

std::vector<int32_t> BpeModel::mergeWord(std::string_view w) const {
    // Initial symbols: one per character (with prefix/suffix), else its <0xNN> bytes,
    // else unk (consecutive unknowns fused when fuse_unk).
    std::vector<int32_t> syms;
    std::vector<int32_t> chars;  // the code point a symbol stands for, -1 for byte/unk symbols
    syms.reserve(w.size());
    chars.reserve(w.size());
    int32_t pendingUnk = -1;
    std::string scratch;
    const auto add = [&](int32_t id, int32_t cp) {
        syms.push_back(id);
        chars.push_back(cp);
    };
    for (size_t i = 0; i < w.size();) {
        const size_t b = i;
        i += std::min(charLength(static_cast<unsigned char>(w[i])), w.size() - i);
        std::string_view ch = w.substr(b, i - b);
        const bool affixed = (b > 0 && !m_prefix.empty()) || (i == w.size() && !m_suffix.empty());
        if (affixed) {
            scratch.assign(b > 0 ? m_prefix : std::string());
            scratch.append(ch);
            if (i == w.size()) scratch.append(m_suffix);
            ch = scratch;
        }
        if (auto id = find(ch)) {
            if (pendingUnk >= 0) add(pendingUnk, -1);
            pendingUnk = -1;
            size_t p = b;
            add(*id, affixed ? -1 : int32_t(nextCodePoint(w, p)));
            continue;
        }
        if (m_byteFallback) {
            bool all = true;
            for (unsigned char c : ch) all = all && m_byteIds[c] >= 0;
            if (all) {
                // HF adds the byte tokens without flushing a pending unk first.
                for (unsigned char c : ch) add(m_byteIds[c], -1);
                continue;
            }
        }
        if (m_unk >= 0) {
            if (pendingUnk >= 0 && !m_fuseUnk) add(pendingUnk, -1);
            pendingUnk = m_unk;
        }
    }
    if (pendingUnk >= 0) add(pendingUnk, -1);

    std::vector<int32_t> out;
    out.reserve(syms.size());
    const int32_t n = int32_t(syms.size());
    if (n < 2048) {
        mergeRange(syms.data(), n, out);
        return out;
    }
    // A long word (SentencePiece-style files have no pre-tokenizer: the whole text is one
    // word). Between characters x and y that no token contains as "xy" no merge can ever
    // happen, so the pieces between such boundaries merge independently, in the same
    // (rank, position) order as in one pass, with small cache-friendly heaps.
    const PairMap& adj = adjacentChars();
    int32_t begin = 0;
    for (int32_t k = 1; k < n; ++k) {
        if (chars[size_t(k - 1)] < 0 || chars[size_t(k)] < 0) continue;
        if (adj.get(PairMap::pairKey(chars[size_t(k - 1)], chars[size_t(k)]))) continue;
        mergeRange(syms.data() + begin, k - begin, out);
        begin = k;
    }
    mergeRange(syms.data() + begin, n - begin, out);
    return out;
}

void BpeModel::mergeRange(int32_t* syms, int32_t n, std::vector<int32_t>& out) const {
    if (n < 2) {
        out.insert(out.end(), syms, syms + n);
        return;
    }
    // Doubly linked symbols merged through a heap of candidate pairs; stale candidates
    // are recognised when popped (HF's Word::merge_all).
    std::vector<int32_t> prev(static_cast<size_t>(n)), next(static_cast<size_t>(n));
    std::vector<char> alive(size_t(n), 1);
    for (int32_t k = 0; k < n; ++k) {
        prev[size_t(k)] = k - 1;
        next[size_t(k)] = k + 1 < n ? k + 1 : -1;
    }
    struct Cand { uint32_t rank; int32_t pos; int32_t newId; };
    const auto worse = [](const Cand& x, const Cand& y) {
        return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
    };
    std::vector<Cand> heap;
    heap.reserve(size_t(n));
    const auto candidate = [&](int32_t left, int32_t right) {
        if (const uint64_t* v = m_merges.get(PairMap::pairKey(syms[left], syms[right]))) {
            heap.push_back({uint32_t(*v >> 32), left, int32_t(uint32_t(*v))});
            std::push_heap(heap.begin(), heap.end(), worse);
        }
    };
    for (int32_t k = 0; k + 1 < n; ++k) candidate(k, k + 1);
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        const Cand top = heap.back();
        heap.pop_back();
        const int32_t p = top.pos;
        if (!alive[size_t(p)] || next[size_t(p)] < 0) continue;
        const int32_t r = next[size_t(p)];
        const uint64_t* v = m_merges.get(PairMap::pairKey(syms[p], syms[r]));
        if (!v || int32_t(uint32_t(*v)) != top.newId) continue;  // expired candidate
        syms[p] = top.newId;
        alive[size_t(r)] = 0;
        next[size_t(p)] = next[size_t(r)];
        if (next[size_t(r)] >= 0) prev[size_t(next[size_t(r)])] = p;
        if (prev[size_t(p)] >= 0) candidate(prev[size_t(p)], p);
        if (next[size_t(p)] >= 0) candidate(p, next[size_t(p)]);
    }
    for (int32_t k = 0; k >= 0; k = next[size_t(k)]) out.push_back(syms[k]);
}

}  // namespace attnscope::tok
