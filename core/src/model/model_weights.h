// Core-internal: the model's own tensors behind Model::weightTensors, for analyses that
// work where the model lives (the Weibull histogram on the GPU).
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "attnscope/model.h"

namespace attnscope {

// For each entry of `infos`: the loaded tensor holding exactly the values
// Model::weightMatrix(name) returns (possibly in another layout), or an undefined tensor
// where the loaded weights differ from the stored ones (re-typed, fused, split): read
// those with weightMatrix.
std::vector<at::Tensor> liveWeightTensors(const Model& model, const std::vector<Model::WeightTensorInfo>& infos);

}  // namespace attnscope
