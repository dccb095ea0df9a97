// Small helpers shared by the safetensors reader and writer (internal to core/src/io).
#pragma once
#include "attnscope/error.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::io::detail {

[[noreturn]] inline void bad(const std::string& file, const std::string& msg) {
    fail(ErrorKind::BadInput, file + ": " + msg);
}

// Names come from the file; keep messages readable when one is megabytes long.
inline std::string quote(std::string_view s) {
    constexpr size_t kMax = 200;
    if (s.size() <= kMax) return "'" + std::string(s) + "'";
    return "'" + std::string(s.substr(0, kMax)) + "...' (" + std::to_string(s.size()) + " bytes)";
}

inline std::string errnoText(int e) { return std::strerror(e); }

inline ErrorKind kindForErrno(int e) {
    return (e == ENOENT || e == ENOTDIR) ? ErrorKind::NotFound : ErrorKind::BadInput;
}

inline uint64_t readLE64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

struct Fd {  // closes on scope exit, so every error path releases the descriptor
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Product of the dims times the element size, or nullopt on overflow past int64.
inline std::optional<uint64_t> byteSize(const std::vector<int64_t>& shape, size_t elemSize) {
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0 || __builtin_mul_overflow(n, uint64_t(d), &n)) return std::nullopt;
    }
    if (n > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
    if (__builtin_mul_overflow(n, uint64_t(elemSize), &n)) return std::nullopt;
    return n;
}

inline bool endsWith(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace attnscope::io::detail
