// One layer's attention statistics as tensors: what the statistics kernels produce and what
// a trace keeps when it computes statistics while the forward runs (q/k can then be dropped).
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "attnscope/attention_stats.h"
#include "trace/attention_stats_impl.h"

namespace attnscope::core {

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

// Rows among i >= minQueryPos that see key j, [T] float32: [max(j, mqp), min(T, j + W)).
at::Tensor causalRowCounts(int64_t T, int64_t window, int64_t minQueryPos, const at::TensorOptions& opts);

std::vector<HeadStats> toHeadStats(const LayerStatTensors& s);

// Pooled map [R, C] of one head (head = -1: mean of the heads; max pooling needs head >= 0).
at::Tensor overviewFromStats(const LayerStatTensors& s, int head, Pool pool);

// The statistics of one layer: the CUDA kernels for CUDA bf16/fp16 tensors with a supported
// head dim, else the ATen tiled path. ovRows/ovCols > 0 add the pooled maps (clamped to T).
// rowLse: optional fused-forward (cuDNN / flash) row LSE [H, T] (natural log), see cudaLayerStats.
LayerStatTensors computeLayerStats(const QkView& v, const StatsOptions& o, int ovRows, int ovCols,
                                   const at::Tensor& rowLse = {});

}  // namespace attnscope::core
