#include "attnscope/trace_memory.h"

#include <algorithm>
#include <cstdio>

namespace attnscope {

TraceMemoryPlan planTraceMemory(const ModelInfo& m, int64_t T, const TracePolicy& p) {
    const int64_t elt = m.dtype == DType::F32 ? 4 : 2, D = m.dModel;
    const int64_t qd = int64_t(m.nHeads) * m.headDim, kvd = int64_t(m.nKvHeads) * m.headDim;
    int64_t perToken = 0;  // elements kept per token of one kept layer
    if (p.keepQk) perToken += qd + kvd;
    if (p.keepResidual) perToken += 3 * D;
    if (p.keepPreRope) perToken += qd + kvd;
    if (p.keepValues) perToken += kvd + qd;
    if (p.keepMlp) perToken += 2 * D;
    const int64_t keptLayers = p.layers.empty() ? m.nLayers
        : std::count_if(p.layers.begin(), p.layers.end(), [&](int l) { return l >= 0 && l < m.nLayers; });
    int64_t kept = keptLayers * perToken * T * elt;
    TraceMemoryPlan plan;
    if (p.statsDuringForward) {
        const int64_t R = std::min<int64_t>(p.overviewRows, T), C = std::min<int64_t>(p.overviewCols, T);
        const int64_t rowVectors = p.stats.windowLast > 0 ? 4 : 3;  // colSum, colSumR, entropy (+ winSum)
        const int64_t layerBytes = int64_t(m.nHeads) * (rowVectors * T + (R > 0 && C > 0 ? 2 * R * C : 0)) * 4;
        kept += m.nLayers * layerBytes;
        plan.workspaceBytes = int64_t(m.nHeads) * T * 4 + layerBytes;  // lse + one layer before its copy
    }
    plan.deviceBytes = (p.onDevice ? kept : 0) + (p.keepLogits ? T : 1) * int64_t(m.vocabSize) * 4;
    plan.hostBytes = p.onDevice ? 0 : kept;
    char buf[200];
    std::snprintf(buf, sizeof buf, "trace of %lld tokens: %.1f MiB on the device, %.1f MiB in host memory, %.1f MiB workspace",
                  static_cast<long long>(T), plan.deviceBytes / 1048576.0, plan.hostBytes / 1048576.0,
                  plan.workspaceBytes / 1048576.0);
    plan.summary = buf;
    return plan;
}

}  // namespace attnscope
