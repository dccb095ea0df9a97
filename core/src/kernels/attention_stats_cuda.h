// ATen front end of the statistics kernels (CUDA builds only).
#pragma once
#include "trace/layer_stats.h"

namespace attnscope::core {

// True when the kernels can take this view: CUDA, bf16/fp16, head dim 64 or 128.
bool cudaStatsApplicable(const QkView& v);

// All query heads' statistics of one layer on the view's device (asynchronous on the current stream).
LayerStatTensors cudaLayerStats(const QkView& v, const StatsOptions& o, int ovRows, int ovCols);

}  // namespace attnscope::core
