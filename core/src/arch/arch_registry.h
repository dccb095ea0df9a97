// The architecture registry (cf. llama.cpp's llama-arch.cpp): one entry per family,
// keyed by the config.json model_type. Names are permanent.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "arch/config_json.h"
#include "arch/model_config.h"
#include "runtime/tensor_load.h"
#include "runtime/weights.h"

namespace attnscope::core {

struct ArchEntry {
    const char* name;
    // Fills the ModelConfig from config.json (dimensions and the family's options).
    void (*configure)(const ConfigJson& json, ModelConfig& out);
    // Maps the family's tensor names and layouts onto the canonical roles.
    Weights (*load)(const TensorLoader& loader, const ModelConfig& config);
    // Names a file tensor for the weight analyses (arch/weight_names.h): false for tensors
    // that are no weight matrix; layer -1 outside the blocks.
    bool (*describe)(const std::string& name, int& layer, std::string& component) = nullptr;
};

const ArchEntry* findArch(std::string_view name);
std::vector<std::string> archNames();

// Shared by families whose files follow the Llama layout.
void configureCommonDims(const ConfigJson& json, ModelConfig& out);
void configureRope(const ConfigJson& json, ModelConfig& out);

}  // namespace attnscope::core
