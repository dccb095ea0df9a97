// Helpers shared by the libFuzzer targets: a private scratch directory on tmpfs for the
// readers that take paths, and the one rule every target checks: a parser may throw
// attnscope::Error, nothing else (any other exception, crash, leak or hang is a finding).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "attnscope/error.h"

namespace attnscope::fuzz {

// One directory per process (libFuzzer -jobs/-fork run several), removed at exit.
inline const std::string& scratchDir() {
    // Never destroyed: the atexit cleanup below may run after static destructors.
    static const std::string* dir = [] {
        std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
        auto* d = new std::string(base + "/attnscope-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(*d);
        std::atexit([] { std::error_code ec; std::filesystem::remove_all(scratchDir(), ec); });
        return d;
    }();
    return *dir;
}

inline std::string writeScratch(const std::string& name, const uint8_t* data, size_t size) {
    const std::string path = scratchDir() + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    return path;
}

// Runs f; attnscope::Error is the documented way to reject input, anything else aborts so
// libFuzzer records the input.
template <class F>
void expectOnlyErrors(F&& f) {
    try {
        f();
    } catch (const attnscope::Error&) {
    } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected exception (not attnscope::Error): %s\n", e.what());
        std::abort();
    }
}

}  // namespace attnscope::fuzz
