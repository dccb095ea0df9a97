// A layer's attention statistics (kernels/stats_types.h): pooled maps, conversions, computation.
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "attnscope/attention_stats.h"
#include "kernels/stats_types.h"  // LayerStatTensors
#include "trace/attention_stats_impl.h"

namespace attnscope::core {

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
