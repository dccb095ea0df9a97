// PCRE2 (UTF + Unicode properties) wrapper for the pre-tokenizer and Replace patterns
// of tokenizer.json, which Hugging Face runs with Oniguruma.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attnscope::tok {

class Regex {
public:
    // Throws BadInput naming `source` when the pattern does not compile.
    Regex(const std::string& pattern, const std::string& source);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    // Non-overlapping matches, left to right, as byte ranges [begin, end) of a valid
    // UTF-8 subject. Empty matches are skipped.
    std::vector<std::pair<size_t, size_t>> findAll(std::string_view subject) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

}  // namespace attnscope::tok
