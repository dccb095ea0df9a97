// The trace of one forward pass: what every attention view is computed from.
// It keeps per-layer q/k/v and activations (not the T x T probabilities) and computes
// exact tiles and O(T)-memory statistics on demand.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attnscope/attention_stats.h"
#include "attnscope/views.h"

namespace attnscope {

// Which tensors to keep, of which layers, where. Long prompts on a GPU keep few layers (or
// none) and take their attention statistics from statsDuringForward instead of q/k;
// planTraceMemory (trace_memory.h) states what a policy needs before running.
struct TracePolicy {
    bool keepResidual = true;  // resid_in, resid_out, attn_in
    bool keepPreRope = true;   // q_pre, k_pre
    bool keepValues = true;    // v and head_out
    bool keepMlp = true;       // mlp_in, mlp_out
    bool keepLogits = true;    // all positions' logits (else only the last row)
    bool onDevice = true;      // false: move kept tensors to host memory (pinned, async on CUDA)
    bool keepQk = true;        // post-RoPE q, k: exact tiles and statistics on demand need them
    std::vector<int> layers;   // layers whose tensors are kept; empty = every layer
    // Statistics of every layer computed while the forward runs, kept where onDevice says;
    // layerStats() with the same minQueryPos/windowLast and overview() of the whole T x T at
    // this resolution then need no q/k.
    bool statsDuringForward = false;
    StatsOptions stats;
    int overviewRows = 0, overviewCols = 0;  // > 0: pooled max/mean maps of every head
};

// Named capture points, as in llama.cpp's cb(cur, name, il).
enum class Capture {
    ResidIn,   // [T, D]   residual stream entering the layer
    ResidOut,  // [T, D]   residual stream leaving the layer (HF hidden_states[l+1], pre final norm)
    AttnIn,    // [T, D]   attention input after the norm
    QPre,      // [T, H*d] q before RoPE (after q_norm for QK-norm models)
    KPre,      // [T, Hkv*d]
    Q,         // [T, H*d] q after RoPE
    K,         // [T, Hkv*d]
    V,         // [T, Hkv*d]
    HeadOut,   // [T, H*d] per-head attention output before o_proj
    MlpIn,     // [T, D]   MLP input after the norm
    MlpOut,    // [T, D]   MLP output (down projection)
};
const char* captureName(Capture c);

class Trace {
public:
    virtual ~Trace() = default;

    virtual int64_t length() const = 0;
    virtual int nLayers() const = 0;
    virtual int nHeads() const = 0;
    virtual int nKvHeads() const = 0;
    virtual int headDim() const = 0;
    virtual const std::vector<int32_t>& ids() const = 0;

    // Logits [T, V] (or [1, V] for the last position when keepLogits is off).
    virtual Matrix2D logits() const = 0;
    // A captured tensor of one layer as [T, width]; throws Error(NotFound) when the
    // trace policy dropped it.
    virtual Matrix2D captured(Capture what, int layer) const = 0;

    // Exact attention probabilities of query head `head` for queries [q0, q1) and keys
    // [k0, k1): rows are queries; masked entries are 0. head = -1 averages the heads.
    virtual Matrix2D attentionTile(int layer, int head, int64_t q0, int64_t q1, int64_t k0,
                                   int64_t k1) const = 0;

    // Exact per-head statistics of one layer, all query heads, in O(T) memory per head.
    virtual std::vector<HeadStats> layerStats(int layer, const StatsOptions& options) const = 0;

    // Block-pooled overview of the attention of one head (head = -1: mean over heads)
    // over queries [q0,q1) x keys [k0,k1), at rows x cols cells.
    virtual Matrix2D overview(int layer, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1,
                              int rows, int cols, Pool pool) const = 0;

    // Bytes held by the trace (host + device).
    virtual int64_t memoryBytes() const = 0;
};

}  // namespace attnscope
