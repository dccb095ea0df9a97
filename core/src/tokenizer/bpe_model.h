// The "BPE" model of tokenizer.json: vocabulary, ranked merges, byte fallback, unk.
// Follows tokenizers' models/bpe (word.rs merge order: lowest rank, then leftmost).
#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/string_map.h"

namespace attnscope::tok {

constexpr int64_t kMaxTokenId = (int64_t(1) << 24) - 1;  // no real vocabulary is near this

class BpeModel {
public:
    BpeModel(const JsonCtx& ctx, const json& model);

    // Appends the ids of one pre-token (valid UTF-8).
    void tokenize(std::string_view word, std::vector<int32_t>& out) const;

    std::optional<int32_t> find(std::string_view token) const;
    // Tokens by id (ids without a token hold ""); size is max id + 1.
    const std::vector<std::string>& tokens() const { return m_tokens; }

private:
    std::vector<int32_t> mergeWord(std::string_view word) const;
    // Merges syms[0, n) in place and appends the result to out.
    void mergeRange(int32_t* syms, int32_t n, std::vector<int32_t>& out) const;
    // Pairs of characters (a, b) such that some token contains "ab"; built on first use.
    const PairMap& adjacentChars() const;

    StringIndex m_vocab;
    std::vector<std::string> m_tokens;
    PairMap m_merges;  // (left id, right id) -> (rank << 32) | merged id
    std::string m_prefix, m_suffix;  // continuing_subword_prefix, end_of_word_suffix
    int32_t m_unk = -1;
    bool m_fuseUnk = false;
    bool m_byteFallback = false;
    bool m_ignoreMerges = false;
    int32_t m_byteIds[256];  // <0xNN> tokens for byte fallback, -1 when absent

    mutable std::once_flag m_adjacentOnce;
    mutable PairMap m_adjacent;

    mutable std::mutex m_cacheMutex;
    mutable StringMap<std::vector<int32_t>> m_cache;
};

}  // namespace attnscope::tok
