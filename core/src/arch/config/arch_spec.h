// The architecture registry, torch-free half (cf. llama.cpp's llama-arch.cpp): one entry per
// family, keyed by the config.json model_type, that reads config.json into a ModelConfig and
// names the family's weight tensors. Kept free of torch so config.json can be fuzzed alone;
// the weight loaders live in arch/arch_registry.h. Names are permanent.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "arch/config/config_json.h"
#include "arch/config/model_config.h"

namespace attnscope::core {

struct ArchSpec {
    const char* name;
    // Fills the ModelConfig from config.json (dimensions and the family's options).
    void (*configure)(const ConfigJson& json, ModelConfig& out);
    // Names a file tensor for the weight analyses (arch/config/weight_names.h): false for
    // tensors that are no weight matrix; layer -1 outside the blocks.
    bool (*describe)(const std::string& name, int& layer, std::string& component) = nullptr;
};

const ArchSpec* findArchSpec(std::string_view name);
// Every family name, llama2c included (its .bin checkpoints have no config.json).
std::vector<std::string> archNames();

// config.json (already parsed) -> a validated ModelConfig; throws Error naming `source`
// for unknown families and inconsistent or hostile values.
ModelConfig configFromJson(const nlohmann::json& raw, const std::string& source);
// The same from the file's bytes; malformed JSON is Error(BadInput).
ModelConfig configFromText(std::string_view text, const std::string& source);

// Shared by families whose files follow the Llama layout.
void configureCommonDims(const ConfigJson& json, ModelConfig& out);
void configureRope(const ConfigJson& json, ModelConfig& out);
// The activation named by `key` (hidden_act, activation_function), spelled as transformers'
// ACT2FN spells it; an unknown name is Error(Unsupported).
Activation activationOf(const ConfigJson& json, const char* key, const char* fallback);
// GPT-2 and GPT-NeoX: the common dimensions with one KV head per query head, LayerNorm and a
// plain (ungated) MLP whose activation `actKey` names.
void configurePlainMha(const ConfigJson& json, ModelConfig& out, const char* actKey, const char* actFallback);

}  // namespace attnscope::core
