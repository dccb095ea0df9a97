// Writes a llama-family decoder as a standard Hugging Face directory (config.json,
// model.safetensors, generation_config.json) that transformers loads as LlamaForCausalLM.
#pragma once
#include <ATen/ATen.h>

#include <string>

#include "arch/config/model_config.h"
#include "arch/weights.h"

namespace attnscope::core {

void exportHfLlama(const ModelConfig& config, const Weights& weights, const std::string& dir,
                   at::ScalarType dtype);

}  // namespace attnscope::core
