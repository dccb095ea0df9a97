// tokenizer.json pre-tokenizers: Split, ByteLevel, Metaspace, Digits, Whitespace,
// WhitespaceSplit and Sequence. Each turns the list of pieces into a finer one.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace attnscope::tok {

struct Piece {
    std::string text;
    bool atStart = false;  // begins at offset 0 of the input (Metaspace "first")
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    virtual void apply(std::vector<Piece>& pieces) const = 0;
};

// Null JSON gives nullptr. Unknown types throw Unsupported, malformed ones BadInput.
std::unique_ptr<PreTokenizer> makePreTokenizer(const JsonCtx& ctx, const json& spec);

// How a match of a splitting pattern is kept (SplitDelimiterBehavior of HF).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Splits text at the given matches ([begin, end) ranges, sorted, non-overlapping).
std::vector<std::string> splitByMatches(const std::string& text,
                                        const std::vector<std::pair<size_t, size_t>>& matches,
                                        SplitBehavior behavior, bool invert);

}  // namespace attnscope::tok
