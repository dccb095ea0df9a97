// The {"String": ...} / {"Regex": ...} patterns of Split, Replace and their decoders.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"

namespace attnscope::tok {

class Pattern {
public:
    Pattern(const JsonCtx& ctx, const json& spec);
    // Non-overlapping matches [begin, end), left to right.
    std::vector<std::pair<size_t, size_t>> findAll(std::string_view s) const;
    // Replaces every match by `content`.
    std::string replaceAll(std::string_view s, std::string_view content) const;

private:
    std::string m_literal;
    std::unique_ptr<Regex> m_regex;
};

}  // namespace attnscope::tok
