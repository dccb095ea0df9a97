// Rotary position embeddings: inverse frequencies (with Llama-3 / linear scaling),
// cos/sin tables, and the two pairing conventions.
#pragma once
#include <ATen/ATen.h>

#include "arch/config/model_config.h"

namespace attnscope::core {

struct RopeTables {
    at::Tensor cos;  // [positions, rotaryDim/2] float32
    at::Tensor sin;
};

at::Tensor ropeInverseFrequencies(const RopeConfig& rope);  // [rotaryDim/2] float32, CPU
RopeTables buildRopeTables(const RopeConfig& rope, int64_t positions, at::Device device);

// x: [..., T, heads, headDim] at absolute positions pos0..pos0+T-1. Returns a new tensor.
at::Tensor applyRope(const at::Tensor& x, const RopeTables& tables, int64_t pos0, const RopeConfig& rope);

}  // namespace attnscope::core
