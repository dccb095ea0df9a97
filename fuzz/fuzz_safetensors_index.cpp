// Sharded index (model.safetensors.index.json): the input is the index; two valid shards
// (a.safetensors with tensors "x" and "y", b.safetensors with "z") sit beside it so the
// fuzzer can reach the cross-checks between index and shards.
#include "fuzz_support.h"
#include "io/safetensors.h"

namespace {

void writeShards() {
    using attnscope::io::NamedBuffer;
    using attnscope::io::StDType;
    const std::string dir = attnscope::fuzz::scratchDir();
    attnscope::io::writeSafetensors(dir + "/a.safetensors",
                                    {NamedBuffer{"x", StDType::F32, {2}, std::vector<uint8_t>(8, 1)},
                                     NamedBuffer{"y", StDType::BF16, {1, 3}, std::vector<uint8_t>(6, 2)}},
                                    {{"format", "pt"}});
    attnscope::io::writeSafetensors(dir + "/b.safetensors",
                                    {NamedBuffer{"z", StDType::I8, {4}, std::vector<uint8_t>(4, 3)}}, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool shards = (writeShards(), true);
    (void)shards;
    const std::string index = attnscope::fuzz::writeScratch("model.safetensors.index.json", data, size);
    attnscope::fuzz::expectOnlyErrors([&] {
        auto w = attnscope::io::WeightSet::openIndex(index);
        volatile uint8_t sink = 0;
        for (const auto& n : w->names()) {
            const auto& t = w->require(n);
            if (t.nbytes > 0) sink = sink + t.data[0] + t.data[t.nbytes - 1];
        }
        sink = sink + uint8_t(w->fileCount() + w->metadata().size() + w->describe().size());
    });
    return 0;
}
