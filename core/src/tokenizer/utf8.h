// UTF-8 helpers shared by the tokenizers. Text reaching the pipelines is first made
// valid (invalid bytes become U+FFFD) so that later stages can trust it.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace attnscope::tok {

// Length of the valid UTF-8 sequence starting at s[pos], or 0 when it is invalid
// (bad lead byte, truncated, overlong, surrogate, beyond U+10FFFF).
size_t validSequenceLength(std::string_view s, size_t pos);

// Replaces each maximal invalid subsequence by U+FFFD (as Python's errors="replace"
// and Rust's from_utf8_lossy do). Valid input is returned unchanged.
std::string sanitizeUtf8(std::string_view s);
bool isValidUtf8(std::string_view s);

// Decodes the code point at s[pos] of a *valid* string and advances pos.
char32_t nextCodePoint(std::string_view s, size_t& pos);
// Length in bytes of the character whose lead byte is b (1 for invalid leads).
inline size_t charLength(unsigned char b) {
    return b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
}
void appendUtf8(std::string& out, char32_t cp);

// Unicode White_Space property (what Rust's char::is_whitespace tests).
bool isWhitespace(char32_t cp);

// In a *valid* string: the start of the character that ends at `end` (lo < end), never
// before lo; and the bounds of [b, e) without its leading / trailing whitespace.
size_t previousCharStart(std::string_view s, size_t lo, size_t end);
size_t skipWhitespace(std::string_view s, size_t b, size_t e);      // first non-space in [b, e), or e
size_t skipWhitespaceBack(std::string_view s, size_t b, size_t e);  // past the last non-space, or b

}  // namespace attnscope::tok
