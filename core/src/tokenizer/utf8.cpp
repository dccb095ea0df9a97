#include "tokenizer/utf8.h"

#include <algorithm>

namespace attnscope::tok {

size_t validSequenceLength(std::string_view s, size_t pos) {
    const size_t n = s.size() - pos;
    const auto b = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
    const unsigned char c0 = b(0);
    if (c0 < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c0 >= 0xC2 && c0 <= 0xDF) {
        len = 2;
    } else if (c0 >= 0xE0 && c0 <= 0xEF) {
        len = 3;
        if (c0 == 0xE0) lo = 0xA0;       // overlong
        if (c0 == 0xED) hi = 0x9F;       // surrogates
    } else if (c0 >= 0xF0 && c0 <= 0xF4) {
        len = 4;
        if (c0 == 0xF0) lo = 0x90;       // overlong
        if (c0 == 0xF4) hi = 0x8F;       // > U+10FFFF
    } else {
        return 0;
    }
    if (n < len) return 0;
    if (b(1) < lo || b(1) > hi) return 0;
    for (size_t i = 2; i < len; ++i)
        if ((b(i) & 0xC0) != 0x80) return 0;
    return len;
}

// Length of the longest prefix at pos that could start a valid sequence (at least 1):
// that prefix is replaced by one U+FFFD ("maximal subpart" rule).
static size_t invalidRunLength(std::string_view s, size_t pos) {
    const unsigned char c0 = static_cast<unsigned char>(s[pos]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c0 >= 0xC2 && c0 <= 0xDF) len = 2;
    else if (c0 >= 0xE0 && c0 <= 0xEF) { len = 3; if (c0 == 0xE0) lo = 0xA0; if (c0 == 0xED) hi = 0x9F; }
    else if (c0 >= 0xF0 && c0 <= 0xF4) { len = 4; if (c0 == 0xF0) lo = 0x90; if (c0 == 0xF4) hi = 0x8F; }
    else return 1;
    size_t i = 1;
    for (; i < len && pos + i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[pos + i]);
        if (i == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80) break;
    }
    return i;
}

bool isValidUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
        const size_t n = validSequenceLength(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string sanitizeUtf8(std::string_view s) {
    if (isValidUtf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 16);
    for (size_t i = 0; i < s.size();) {
        const size_t n = validSequenceLength(s, i);
        if (n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out.append("\xEF\xBF\xBD");
            i += invalidRunLength(s, i);
        }
    }
    return out;
}

char32_t nextCodePoint(std::string_view s, size_t& pos) {
    const unsigned char c0 = static_cast<unsigned char>(s[pos]);
    const size_t len = std::min(charLength(c0), s.size() - pos);
    char32_t cp = len == 1 ? c0 : len == 2 ? (c0 & 0x1F) : len == 3 ? (c0 & 0x0F) : (c0 & 0x07);
    for (size_t i = 1; i < len; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3F);
    pos += len;
    return cp;
}

void appendUtf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool isWhitespace(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

size_t previousCharStart(std::string_view s, size_t lo, size_t end) {
    size_t p = end - 1;
    while (p > lo && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
    return p;
}

size_t skipWhitespace(std::string_view s, size_t b, size_t e) {
    while (b < e) {
        size_t p = b;
        if (!isWhitespace(nextCodePoint(s, p))) break;
        b = p;
    }
    return b;
}

size_t skipWhitespaceBack(std::string_view s, size_t b, size_t e) {
    while (e > b) {
        const size_t start = previousCharStart(s, b, e);
        size_t p = start;
        if (!isWhitespace(nextCodePoint(s, p))) break;
        e = start;
    }
    return e;
}

}  // namespace attnscope::tok
