// ATen front end of the statistics kernels (CUDA builds only).
#pragma once
#include "kernels/stats_types.h"

namespace attnscope::core {

// True when the kernels can take this view: CUDA, bf16/fp16, head dim 64 or 128.
bool cudaStatsApplicable(const QkView& v);

// All query heads' statistics of one layer on the view's device (asynchronous on the current stream).
// rowLse: optional [H, T] natural-log row log-sum-exp of the scaled logits (the fused attention
// forward's); used, and the first pass skipped, unless both entropy and pooled maps are asked for.
LayerStatTensors cudaLayerStats(const QkView& v, const StatsOptions& o, int ovRows, int ovCols,
                                const at::Tensor& rowLse = {});

}  // namespace attnscope::core
