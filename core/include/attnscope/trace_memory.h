// What a trace policy costs before the run: bytes kept on the device and in host memory,
// plus the transient device workspace of the statistics computed while the forward runs.
// Model weights and the forward's own activations are not included.
#pragma once
#include <cstdint>
#include <string>

#include "attnscope/model.h"

namespace attnscope {

struct TraceMemoryPlan {
    int64_t deviceBytes = 0;     // kept tensors and statistics on the device
    int64_t hostBytes = 0;       // kept tensors and statistics in (pinned) host memory
    int64_t workspaceBytes = 0;  // per-layer statistics buffers while they are computed
    std::string summary;         // one line for logs and the status bar
};

TraceMemoryPlan planTraceMemory(const ModelInfo& info, int64_t T, const TracePolicy& policy);

}  // namespace attnscope
