// GPT-2's reversible byte <-> printable-character mapping used by byte-level BPE.
#pragma once
#include <string>
#include <string_view>

namespace attnscope::tok {

// The UTF-8 encoding of the character that stands for byte b.
const std::string& byteToChar(unsigned char b);
// Maps every byte of s to its character.
std::string bytesToChars(std::string_view s);
// The byte a character stands for, or -1 when it stands for none.
int charToByte(char32_t cp);

}  // namespace attnscope::tok
