// llama2.c checkpoint header: 28 header bytes followed by an 8-byte little-endian file size
// (the reader compares the size the header implies with the real one before allocating).
#include <cstring>

#include "fuzz_support.h"
#include "io/llama2c_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using attnscope::io::kLlama2cHeaderBytes;
    if (size < kLlama2cHeaderBytes + 8) return 0;
    uint64_t fileSize = 0;
    std::memcpy(&fileSize, data + kLlama2cHeaderBytes, 8);
    attnscope::fuzz::expectOnlyErrors([&] {
        const auto h = attnscope::io::parseLlama2cHeader(data, fileSize, "fuzz.bin");
        // Accepted headers must describe a file of exactly this size with sane shapes.
        if (h.headDim() <= 0 || h.kvDim() <= 0 || h.kvDim() > h.dim) std::abort();
    });
    return 0;
}
