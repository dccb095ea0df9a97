// What the interventions share (attnscope/analyses/interventions.h): one forward of the model
// with hooks, and the comparisons of two runs' next-token distributions.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <vector>

#include "attnscope/job.h"
#include "attnscope/trace.h"
#include "runtime/decoder.h"

namespace attnscope {
class Model;
}

namespace attnscope::interventions {

struct Hooks {
    std::function<at::Tensor(int, const core::LayerCapture&, const at::Tensor&)> attention;  // head outputs [T, H, d]
    std::function<at::Tensor(int, const at::Tensor&)> attnOut, mlp, resid;                   // [T, D]
};

struct Run {
    at::Tensor logits;             // [T, V] float32 on the CPU
    std::unique_ptr<Trace> trace;  // with a policy
};

// One forward of `ids` with the hooks (none: the model as it is), keeping `policy` when given.
// Throws Error(BadInput) for an empty or overlong prompt or an id outside the vocabulary.
Run hookedRun(Model& model, const std::vector<int32_t>& ids, const Hooks& hooks, const TracePolicy* policy,
              const JobControl& job);
// What the sinks analysis reads: residual stream, MLP outputs, q and k; every position's logits.
TracePolicy sinkTracePolicy();
// KL(softmax(a) ‖ softmax(b)) per row, float64 [T].
at::Tensor klRows(const at::Tensor& a, const at::Tensor& b);
const core::ModelConfig& configOf(Model& model);
// Checks a layer index, naming what it is for.
void checkLayer(const core::ModelConfig& c, int layer, const char* what);

}  // namespace attnscope::interventions
