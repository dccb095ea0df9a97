// Torch-side internals of the quantization lab shared by calibration, the model-level
// pipeline and the KV/score analyses.
#pragma once
#include <ATen/ATen.h>

#include "arch/config/model_config.h"
#include "attnscope/analyses/quant.h"
#include "arch/weights.h"

namespace attnscope::quant_detail {

// The down projection's input act(gate x)·up x (or act(up x)), with biases.
at::Tensor downInput(const core::ModelConfig& c, const core::LayerWeights& L, const at::Tensor& mlpIn);

// The canonical [out, in] tensor of a quantizable matrix (undefined when absent).
at::Tensor& linearWeight(core::LayerWeights& L, const std::string& component);

}  // namespace attnscope::quant_detail
