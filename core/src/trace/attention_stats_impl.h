// Tiled attention statistics over q/k tensors (reference §1.5): pass 1 computes each
// row's log-sum-exp over key tiles, pass 2 accumulates column quantities from
// exp(S - LSE). Memory is O(tile + H*T); the T x T matrix never exists.
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "attnscope/attention_stats.h"
#include "attnscope/views.h"
#include "kernels/stats_types.h"  // QkView

namespace attnscope::core {


// Row log-sum-exp [H, q1-q0] float32 over all visible keys of rows [q0, q1).
at::Tensor rowLogSumExp(const QkView& v, int64_t q0, int64_t q1, int64_t blockK);

std::vector<HeadStats> tiledHeadStats(const QkView& v, const StatsOptions& options);

// Per-head accumulators [H, T] float32 of the statistics (zero-initialized by the caller).
struct StatSums {
    at::Tensor colSum, colSumR, winSum, entropy;
    at::Tensor diagonal, previous;  // A[i, i], A[i, i-1]: defined when StatsOptions::diagonal
};

// Fills HeadStats::diagonal / previous of `out` from q/k (row log-sum-exp, then one logit per
// row): the non-CPU paths and statistics kept from the forward.
void addDiagonalStats(const QkView& v, const StatsOptions& options, std::vector<HeadStats>& out);

// CPU path of tiledHeadStats: whole-row tiles, heads in parallel (attention_stats_cpu.cpp).
void accumulateStatsCpu(const QkView& v, const StatsOptions& options, StatSums& sums);
// CPU path of pooledOverview (R, C already clamped): per-head tiles pooled in parallel.
at::Tensor pooledOverviewCpu(const QkView& v, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1, int64_t R,
                             int64_t C, Pool pool);

// Probabilities [H', q1-q0, k1-k0] of rows [q0,q1) and keys [k0,k1) (exact, full-row
// normalization). head >= 0 selects one query head (H' = 1); -1 keeps all heads.
at::Tensor probabilityTile(const QkView& v, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1);

// Block-pooled map [rows', cols'] (rows' = min(rows, q1-q0), likewise cols').
at::Tensor pooledOverview(const QkView& v, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1,
                          int rows, int cols, Pool pool);

Matrix2D toMatrix(const at::Tensor& t2d);

}  // namespace attnscope::core
