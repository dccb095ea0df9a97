// config.json: the bytes of the file go through the same path as Model::open (parse, find
// the family by model_type, configure, validate). Accepted configs must be internally
// consistent, since the decoder sizes its buffers from them.
#include <string_view>

#include "arch/config/arch_spec.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    attnscope::fuzz::expectOnlyErrors([&] {
        const auto c = attnscope::core::configFromText(
            std::string_view(reinterpret_cast<const char*>(data), size), "config.json");
        if (c.nHeads % c.nKvHeads != 0 || c.headDim <= 0 || c.rope.rotaryDim > c.headDim ||
            c.groupSize() < 1 || !(c.logitScale() > 0))
            std::abort();
    });
    return 0;
}
