#include "tokenizer/byte_level.h"

#include <array>

namespace attnscope::tok {

namespace {

struct Tables {
    std::array<std::string, 256> toChar;
    std::array<int, 324> toByte;  // the mapped code points are all below 256 + 68

    Tables() {
        toByte.fill(-1);
        // Printable bytes keep their code point; the others are moved to 256, 257, ...
        // in byte order (bytes_to_unicode() of GPT-2's encoder.py).
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
                                   (b >= 0xAE && b <= 0xFF);
            const int cp = printable ? b : next++;
            std::string u;
            if (cp < 0x80) {
                u.push_back(char(cp));
            } else {
                u.push_back(char(0xC0 | (cp >> 6)));
                u.push_back(char(0x80 | (cp & 0x3F)));
            }
            toChar[size_t(b)] = u;
            toByte[size_t(cp)] = b;
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

const std::string& byteToChar(unsigned char b) { return tables().toChar[b]; }

std::string bytesToChars(std::string_view s) {
    const Tables& t = tables();
    std::string out;
    out.reserve(s.size() * 2);
    for (unsigned char b : s) out += t.toChar[b];
    return out;
}

int charToByte(char32_t cp) {
    return cp < tables().toByte.size() ? tables().toByte[cp] : -1;
}

}  // namespace attnscope::tok
