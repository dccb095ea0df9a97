// Safetensors header and data section: SafetensorsFile::fromBuffer on arbitrary bytes, then
// every accessor a loader uses, touching the first and last byte of each tensor (ASan
// catches a data pointer outside the buffer).
#include "fuzz_support.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    attnscope::fuzz::expectOnlyErrors([&] {
        auto f = attnscope::io::SafetensorsFile::fromBuffer(std::vector<uint8_t>(data, data + size), "fuzz");
        volatile uint8_t sink = 0;
        for (const auto& t : f->tensors()) {
            if (t.nbytes > 0) sink = sink + t.data[0] + t.data[t.nbytes - 1];
            if (f->find(t.name) != &t) std::abort();
            (void)attnscope::io::formatShape(t.shape);
            (void)t.numel();
        }
        for (const auto& [k, v] : f->metadata()) sink = sink + uint8_t(k.size() + v.size());
    });
    return 0;
}
