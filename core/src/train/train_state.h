// Resumable training state: weights and AdamW moments in one safetensors file, so a run
// cut off at any step continues exactly (the batch order depends on the step only).
#pragma once
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "arch/weights.h"

namespace attnscope::core {

struct TrainState {
    int64_t step = 0;
    int64_t tokensSeen = 0;
    double lastTrainLoss = 0;
};

// Every trainable tensor with a stable name (tied weights listed once).
std::vector<std::pair<std::string, at::Tensor>> namedParameters(const Weights& w);

void saveTrainState(const std::string& path, const TrainState& s, const Weights& w, torch::optim::AdamW& opt);
// Loads into the existing tensors (shapes must match) and the optimizer's state.
TrainState loadTrainState(const std::string& path, Weights& w, torch::optim::AdamW& opt);

}  // namespace attnscope::core
