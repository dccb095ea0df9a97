// Exact attention statistics without materializing T x T (reference §1.5, two-pass LSE).
#pragma once
#include <cstdint>
#include <vector>

#include "attnscope/job.h"
#include "attnscope/views.h"

namespace attnscope {

enum class Pool { Max, Mean };

struct StatsOptions {
    int64_t minQueryPos = 0;   // rows i < minQueryPos are left out of col_mean_causal
    int64_t blockQ = 256;      // query tile
    int64_t blockK = 256;      // key tile
    int64_t windowLast = 0;    // > 0: also sum the last w query rows (SnapKV-style)
    // false: no row entropy, which lets CUDA statistics taken during the forward reuse the
    // row log-sum-exp of the flash-attention forward instead of their own first pass.
    bool entropy = true;
    // true: also A[i, i] and A[i, i-1] of every row (HeadStats::diagonal / previous), exact from
    // the same pass (the head grid's diagonal and previous-token scores).
    bool diagonal = false;
    // Its stop is checked between tiles on the CPU: a requested stop ends the computation with
    // a Cancelled error (so the GUI can put a background analysis aside for a tile).
    JobControl job;
};

struct HeadStats {
    std::vector<float> colSum;         // [T] sum over all queries of A[i, j]
    std::vector<float> colMeanCausal;  // [T] sum over rows i >= minQueryPos / number of such rows seeing j
    std::vector<float> causalCount;    // [T] that number of rows
    std::vector<float> entropy;        // [T] row entropy in nats
    std::vector<float> windowSum;      // [T] sum over the last windowLast rows (empty if 0)
    std::vector<float> diagonal;       // [T] A[i, i] (empty unless StatsOptions::diagonal)
    std::vector<float> previous;       // [T] A[i, i-1], 0 for i = 0 (likewise)
};

// Attention geometry shared by the trace and the raw entry point.
struct AttentionShape {
    int64_t T = 0;
    int nHeads = 0;
    int nKvHeads = 0;
    int headDim = 0;
    float scale = 0.f;        // logit scale (usually 1/sqrt(headDim))
    int64_t window = 0;       // sliding window (0 = full causal)
};

// Statistics for every query head from raw post-RoPE q [T, H*d] and k [T, Hkv*d]
// (row-major float32, GQA head h reads kv head h / (H/Hkv)). For tests and benches.
std::vector<HeadStats> computeAttentionStats(const std::vector<float>& q,
                                             const std::vector<float>& k,
                                             const AttentionShape& shape,
                                             const StatsOptions& options);

}  // namespace attnscope
