// CPU attention in per-head row tiles. A tile is a block of query rows of one head against
// only the keys those rows can see; its row count is chosen so that the [rows, keys] float
// tile stays near a cache-sized budget. Work items go to the cores with at::parallel_for.
// The forward, the statistics and the overview maps share these tiles.
#pragma once
#include <ATen/ATen.h>

#include <stop_token>
#include <vector>

#include "runtime/attention.h"

namespace attnscope::core {

// Query heads grouped for tiling: float32 [H, Tq, d] / [Hkv, Tk, d] contiguous copies and the
// KV-eviction mask as "hidden" [Hm, K] (undefined when there is none).
struct HeadMajorQk {
    at::Tensor q, k, hidden;
    AttnGeometry g;
    int64_t group = 1;  // query heads per KV head
};
HeadMajorQk headMajor(const at::Tensor& q, const at::Tensor& k, const AttnGeometry& g);

struct RowTile {
    int64_t r0, r1;  // query rows (indices into q)
    int64_t kb, ke;  // keys any of those rows can see (indices into k)
};

// Row tiles covering queries [0, Tq) with rows * keys <= budgetElems (at least one row).
std::vector<RowTile> rowTiles(const AttnGeometry& g, int64_t Tq, int64_t Tk, int64_t budgetElems);

// Scaled logits of query head h over tile t into s [t.r1-t.r0, t.ke-t.kb] (resized as
// needed), -inf where a key is invisible (causal, window or eviction mask).
void logitsTile(const HeadMajorQk& x, int64_t h, const RowTile& t, at::Tensor& s);

// After a softmax over a tile: zeroes the invisible (causal/window) entries of `t` [rows, keys],
// e.g. log-probabilities, so that products with zero probabilities stay finite.
void zeroInvisible(const AttnGeometry& g, const RowTile& t, at::Tensor& tile);

// Attention output [Tq, H, d] float32 (CPU tensors only).
at::Tensor attentionForwardCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const AttnGeometry& g, const std::stop_token& stop);

// Tile budget of the CPU forward (floats per [rows, keys] tile): 1 MiB, about one core's L2.
constexpr int64_t kCpuTileElems = int64_t(1) << 18;

}  // namespace attnscope::core
