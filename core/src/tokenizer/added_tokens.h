// Added tokens of tokenizer.json ("added_tokens"): found in the text before anything
// else (leftmost, then longest match), honouring lstrip/rstrip/single_word; "normalized"
// tokens are searched in the normalized text instead (HF's AddedVocabulary).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/json_fields.h"

namespace attnscope::tok {

class Normalizer;

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool special = false;
    bool lstrip = false, rstrip = false, singleWord = false, normalized = false;
};

// A piece of text: either an added token (id >= 0) or plain text to tokenize.
struct Segment {
    int32_t id = -1;
    size_t begin = 0, end = 0;  // byte range in the searched string
};

class AddedTokenMatcher {
public:
    // Builds a trie of contents[k], which stands for the added token of index which[k].
    void build(const std::vector<std::string>& contents, const std::vector<size_t>& which);
    bool empty() const { return m_nodes.size() <= 1; }
    // Splits text into token and non-token segments (non-token ones are never empty).
    std::vector<Segment> split(std::string_view text, const std::vector<AddedToken>& tokens) const;

private:
    struct Node {
        std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
        int32_t token = -1;  // index into tokens when a content ends here
    };
    std::vector<Node> m_nodes;
};

class AddedVocabulary {
public:
    void load(const JsonCtx& ctx, const json& list, int64_t maxId);
    // The tries depend on the normalizer (normalized tokens are matched normalized).
    void prepare(const Normalizer* normalizer);

    const std::vector<AddedToken>& tokens() const { return m_tokens; }
    const AddedTokenMatcher& rawMatcher() const { return m_raw; }
    const AddedTokenMatcher& normalizedMatcher() const { return m_norm; }

private:
    std::vector<AddedToken> m_tokens;
    AddedTokenMatcher m_raw, m_norm;
};

}  // namespace attnscope::tok
