// What the attention-statistics kernels and the trace exchange: a layer's q/k view and its
// statistics as tensors. The lowest layer of the statistics: kernels/ includes nothing of trace/.
// (LayerStatTensors' methods are defined in trace/layer_stats.cpp, built without CUDA too.)
#pragma once
#include <ATen/ATen.h>

#include "attnscope/attention_stats.h"

namespace attnscope::core {

struct QkView {
    at::Tensor q;  // [T, H, d] post-RoPE
    at::Tensor k;  // [T, Hkv, d]
    double scale = 1.0;
    int64_t window = 0;
};

// One layer's attention statistics as tensors: what the statistics kernels produce and what a
// trace keeps when it computes statistics while the forward runs (q/k can then be dropped).
struct LayerStatTensors {
    StatsOptions options;          // minQueryPos / windowLast they were computed with
    int64_t window = 0;            // the model's sliding window
    at::Tensor colSum, colSumR;    // [H, T] float32; colSumR: rows i >= minQueryPos
    at::Tensor entropy;            // [H, T] row entropy (nats), undefined when options.entropy is off
    at::Tensor winSum;             // [H, T], undefined when options.windowLast == 0
    at::Tensor ovSum, ovMax;       // [H, R, C] pooled over the whole T x T, undefined without a map

    int64_t bytes() const;
    LayerStatTensors to(at::Device device, bool pinnedAsync) const;  // pinned + non-blocking to the host
};

}  // namespace attnscope::core
