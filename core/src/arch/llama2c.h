// llama2.c checkpoints (legacy version-0 export): a header of 7 int32 and fp32 arrays.
#pragma once
#include <ATen/ATen.h>

#include <string>

#include "arch/config/model_config.h"
#include "arch/weights.h"

namespace attnscope::core {

struct Llama2cModel {
    ModelConfig config;
    Weights weights;
};

// Throws Error(BadInput) when the header is implausible or the file size does not match.
Llama2cModel loadLlama2c(const std::string& path, at::Device device, at::ScalarType dtype);

}  // namespace attnscope::core
