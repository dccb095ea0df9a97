// The architecture registry, torch half: one weight loader per family, keyed by the same
// names as the torch-free specs (arch/config/arch_spec.h) that read config.json.
#pragma once
#include <string_view>

#include "arch/config/arch_spec.h"
#include "arch/tensor_load.h"
#include "arch/weights.h"

namespace attnscope::core {

struct ArchEntry {
    const char* name;
    // Maps the family's tensor names and layouts onto the canonical roles.
    Weights (*load)(const TensorLoader& loader, const ModelConfig& config);
};

const ArchEntry* findArch(std::string_view name);

}  // namespace attnscope::core
