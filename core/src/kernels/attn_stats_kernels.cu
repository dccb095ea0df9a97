// Fused two-pass attention statistics (see attn_stats_kernels.h). Logits are handled in
// log2 units (s2 = q.k * scale * log2 e) so every exponential is one ex2.approx.
#include "kernels/attn_stats_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <algorithm>
#include <stdexcept>
#include <type_traits>
#include <string>

namespace attnscope::kernels {
namespace {

using namespace nvcuda;

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;
__device__ __forceinline__ float negInf() { return __int_as_float(0xff800000); }

__device__ __forceinline__ float exp2Approx(float x) {  // 2^x; -inf -> +0
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// 16-byte (or 4-byte) asynchronous global -> shared copies; invalid sources zero-fill.
__device__ __forceinline__ void cpAsync16(void* dst, const void* src, bool valid) {
    const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cpAsync4(void* dst, const void* src, bool valid) {
    const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(s), "l"(src), "r"(valid ? 4 : 0));
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cpAsyncWait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Rows [r0, r0+ROWS) of one head of a [T, heads, D] tensor into shared memory (pitch D+8).
template <int ROWS, int D, int NT, class E>
__device__ __forceinline__ void loadTile(E* sm, const E* g, int64_t stride, int r0, int T) {
    constexpr int kChunks = D / 8, kLd = D + 8;
    for (int c = threadIdx.x; c < ROWS * kChunks; c += NT) {
        const int r = c / kChunks, col = (c % kChunks) * 8;
        const bool ok = r0 + r < T;
        cpAsync16(sm + r * kLd + col, g + (ok ? int64_t(r0 + r) : 0) * stride + col, ok);
    }
}

// S[BQ x BK] = Q K^T for this warp's 16 rows, stored row-major (pitch BK+4) at sS.
template <int D, int BK, class E>
__device__ __forceinline__ void warpLogits(const E* sQw, const E* sK, float* sSw) {
    constexpr int kLd = D + 8, kLds = BK + 4;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[BK / 16];
#pragma unroll
    for (int j = 0; j < BK / 16; ++j) wmma::fill_fragment(acc[j], 0.f);
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, E, wmma::row_major> a;
        wmma::load_matrix_sync(a, sQw + kk * 16, kLd);
#pragma unroll
        for (int j = 0; j < BK / 16; ++j) {
            wmma::fragment<wmma::matrix_b, 16, 16, 16, E, wmma::col_major> b;
            wmma::load_matrix_sync(b, sK + j * 16 * kLd + kk * 16, kLd);
            wmma::mma_sync(acc[j], a, b, acc[j]);
        }
    }
#pragma unroll
    for (int j = 0; j < BK / 16; ++j) wmma::store_matrix_sync(sSw + j * 16, acc[j], kLds, wmma::mem_row_major);
}

// Online softmax state in log2 units: m = running max, l = sum 2^(s-m), u = sum 2^(s-m)(s-m).
struct RowState {
    float m, l, u;
};

// State rescaled to a new max M (M >= st.m); an empty state stays empty.
__device__ __forceinline__ RowState rescale(RowState st, float M) {
    if (st.m == negInf()) return {M, 0.f, 0.f};
    const float dm = st.m - M, a = exp2Approx(dm);
    return {M, st.l * a, a * (st.u + dm * st.l)};
}

// The WMMA 16x16 float accumulator as mma.sync m16n8k16 lays it out on sm_80/sm_90 (two n8
// halves): element e of lane holds row (lane>>2) + accRow(e), column 2*(lane&3) + accCol(e).
// attnscope-check-cuda-stats fails if a toolkit ever changes this.
__device__ __forceinline__ int accRow(int e) { return (e & 2) ? 8 : 0; }
__device__ __forceinline__ int accCol(int e) { return (e & 1) + ((e & 4) ? 8 : 0); }

// Adds one tile's values (log2 units, -inf = masked) of a row to its online state.
template <int N>
__device__ __forceinline__ void addToRow(RowState& st, const float (&v)[N]) {
    float tmax = negInf();
#pragma unroll
    for (int e = 0; e < N; ++e) tmax = fmaxf(tmax, v[e]);
    const float mNew = fmaxf(st.m, tmax);
    if (mNew == negInf()) return;
    st = rescale(st, mNew);
#pragma unroll
    for (int e = 0; e < N; ++e) {
        const float dl = v[e] - mNew, p = exp2Approx(dl);
        st.l += p;
        st.u += p > 0.f ? p * dl : 0.f;
    }
}

__device__ __forceinline__ RowState mergeRows(RowState x, RowState y) {
    const float M = fmaxf(x.m, y.m);
    if (M == negInf()) return x;
    x = rescale(x, M);
    y = rescale(y, M);
    return {M, x.l + y.l, x.u + y.u};
}

// ---------------------------------------------------------------------------------------
// Pass 1: one block per (head, query tile of BQ rows); each warp owns 16 rows, keeps their
// Q fragments in registers and streams double-buffered key tiles. Each lane keeps online
// states of its two rows over its columns; the four lanes of a row merge at the end.
template <int D, int BQ, int BK, class E>
__global__ void __launch_bounds__(BQ * 2, 2) rowStatsKernel(AttnStatsArgs a) {
    constexpr int kNT = BQ * 2, kLd = D + 8;
    extern __shared__ __align__(128) unsigned char smem[];
    E* sQ = reinterpret_cast<E*>(smem);
    E* sK = sQ + BQ * kLd;  // two buffers

    const int hh = blockIdx.x, h = a.head0 + hh, g = h / (a.H / a.Hkv);
    const int q0 = (gridDim.y - 1 - blockIdx.y) * BQ;  // longest rows first
    const int qEnd = min(a.T, q0 + BQ);
    const E* qg = static_cast<const E*>(a.q) + int64_t(h) * D;
    const E* kg = static_cast<const E*>(a.k) + int64_t(g) * D;
    const int kLo = (a.window > 0 ? max(0, q0 - a.window + 1) : 0) / BK * BK;
    const int nTiles = (qEnd - kLo + BK - 1) / BK;

    loadTile<BQ, D, kNT>(sQ, qg, a.qStride, q0, a.T);
    loadTile<BK, D, kNT>(sK, kg, a.kStride, kLo, a.T);
    cpAsyncCommit();

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int iA = q0 + warp * 16 + (lane >> 2), c2 = 2 * (lane & 3);
    const float sl2 = a.scale * kLog2e;
    RowState stA{negInf(), 0.f, 0.f}, stB{negInf(), 0.f, 0.f};
    wmma::fragment<wmma::matrix_a, 16, 16, 16, E, wmma::row_major> aF[D / 16];

    for (int n = 0; n < nTiles; ++n) {
        const int k0 = kLo + n * BK;
        if (n + 1 < nTiles) {
            loadTile<BK, D, kNT>(sK + ((n + 1) & 1) * BK * kLd, kg, a.kStride, k0 + BK, a.T);
            cpAsyncCommit();
            cpAsyncWait<1>();
        } else {
            cpAsyncWait<0>();
        }
        __syncthreads();
        if (n == 0)
#pragma unroll
            for (int kk = 0; kk < D / 16; ++kk) wmma::load_matrix_sync(aF[kk], sQ + warp * 16 * kLd + kk * 16, kLd);
        const E* kb = sK + (n & 1) * BK * kLd;
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[BK / 16];
#pragma unroll
        for (int j = 0; j < BK / 16; ++j) wmma::fill_fragment(acc[j], 0.f);
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk)
#pragma unroll
            for (int j = 0; j < BK / 16; ++j) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, E, wmma::col_major> b;
                wmma::load_matrix_sync(b, kb + j * 16 * kLd + kk * 16, kLd);
                wmma::mma_sync(acc[j], aF[kk], b, acc[j]);
            }
        const bool full = k0 + BK - 1 <= q0 && (a.window == 0 || qEnd - 1 - k0 < a.window);
        // Compiled with and without the mask: predicated mask code costs issue slots per logit.
        auto tile = [&](auto maskedTag) {
            float vA[BK / 4], vB[BK / 4];
#pragma unroll
            for (int j = 0; j < BK / 16; ++j)
#pragma unroll
                for (int e = 0; e < 8; ++e) {
                    const int i = iA + accRow(e), col = k0 + j * 16 + c2 + accCol(e);
                    float s = acc[j].x[e] * sl2;
                    if (decltype(maskedTag)::value && (col > i || (a.window > 0 && i - col >= a.window))) s = negInf();
                    float* v = (e & 2) ? vB : vA;
                    v[j * 4 + (e & 1) + ((e & 4) >> 1)] = s;
                }
            addToRow(stA, vA);
            addToRow(stB, vB);
        };
        if (full) tile(std::false_type{});
        else tile(std::true_type{});
        __syncthreads();  // the K buffer of this tile is refilled two iterations on
    }
    // Merge the four lanes of each row (lanes differing in bits 0-1).
#pragma unroll
    for (int off = 1; off <= 2; off <<= 1) {
        stA = mergeRows(stA, {__shfl_xor_sync(0xffffffffu, stA.m, off), __shfl_xor_sync(0xffffffffu, stA.l, off),
                              __shfl_xor_sync(0xffffffffu, stA.u, off)});
        stB = mergeRows(stB, {__shfl_xor_sync(0xffffffffu, stB.m, off), __shfl_xor_sync(0xffffffffu, stB.l, off),
                              __shfl_xor_sync(0xffffffffu, stB.u, off)});
    }
    if ((lane & 3) == 0)
        for (int r = 0; r < 2; ++r) {
            const int i = iA + 8 * r;
            const RowState& st = r ? stB : stA;
            if (i >= a.T) continue;
            const float lg = log2f(st.l);
            a.lse2[int64_t(hh) * a.T + i] = st.m + lg;
            a.entropy[int64_t(hh) * a.T + i] = kLn2 * (lg - st.u / st.l);
        }
}

// ---------------------------------------------------------------------------------------
// Pass 2 without pooled maps: one block per (head, key tile of BK keys). Warp w owns key
// columns [16 kFr w, 16 kFr (w+1)) and keeps their K fragments in registers for the whole block, so
// only Q tiles (double-buffered, with their LSE) move through shared memory. Column sums of
// rows >= minQueryPos stay in registers; the few tiles holding rows < minQueryPos or window
// rows add those through shared-memory atomics. Without pass 1 (lse2 from the flash forward)
// it also accumulates row entropy -sum p ln p = -ln2 sum p (s2 - lse2): every lane stores its
// partial of a row in shared memory, and once per tile the block adds each row's partials to
// the zeroed entropy row in global memory.
template <int D, int BQ, int BK, class E, int kFr, int kMinBlocks, bool kEnt>
__global__ void __launch_bounds__(BK / (16 * kFr) * 32, kMinBlocks) colStatsRegKernel(AttnStatsArgs a) {
    constexpr int kNT = BK / (16 * kFr) * 32, kLd = D + 8;  // each warp owns kFr 16-column fragments
    static_assert(BK % (16 * kFr) == 0, "whole fragments per warp");
    extern __shared__ __align__(128) unsigned char smem[];
    // The K tile is only read once, into registers; the Q buffers then reuse its space, which
    // lets 4 blocks (16 warps) share an SM to hide the MMA -> ex2 -> add latencies.
    E* sK = reinterpret_cast<E*>(smem);
    E* sQ = sK;                                                                  // two buffers
    float* sL = reinterpret_cast<float*>(sQ + (BK > 2 * BQ ? BK : 2 * BQ) * kLd);  // two buffers of BQ lse2 values
    float* sLow = sL + 2 * BQ;                                // [BK] rows < minQueryPos
    float* sWin = sLow + BK;                                  // [BK] rows >= windowStart
    constexpr int kParts = kNT / 8, kEntLd = kParts + 1;       // entropy partials per row (4 lanes x warps), padded
    float* sEnt = sWin + BK;                                  // two buffers of [BQ][kEntLd] partials

    const int hh = blockIdx.x, h = a.head0 + hh, g = h / (a.H / a.Hkv);
    const int k0 = blockIdx.y * BK;  // key tile 0 has the most rows: scheduled first
    const int kEnd = min(a.T, k0 + BK);
    const int qLo = k0 / BQ * BQ;
    const int qHi = a.window > 0 ? min(a.T, kEnd - 1 + a.window) : a.T;
    const int nTiles = (qHi - qLo + BQ - 1) / BQ;
    const E* qg = static_cast<const E*>(a.q) + int64_t(h) * D;
    const E* kg = static_cast<const E*>(a.k) + int64_t(g) * D;
    const float* lse = a.lse2 + int64_t(hh) * a.T;
    const bool winOn = a.winSum != nullptr;
    float* entG = kEnt ? a.entropy + int64_t(hh) * a.T : nullptr;  // kEnt: !rowPass && entropy

    auto loadQ = [&](int buf, int r0) {
        loadTile<BQ, D, kNT>(sQ + buf * BQ * kLd, qg, a.qStride, r0, a.T);
        for (int r = threadIdx.x; r < BQ; r += kNT) cpAsync4(sL + buf * BQ + r, lse + (r0 + r < a.T ? r0 + r : 0), r0 + r < a.T);
    };
    // Adds a finished tile's row entropies (the sum of each row's partials) to global memory.
    auto flushEnt = [&](int buf, int r0) {
        for (int r = threadIdx.x; r < BQ; r += kNT) {
            const float* e = sEnt + (buf * BQ + r) * kEntLd;
            float sum = 0.f;
#pragma unroll
            for (int c = 0; c < kParts; ++c) sum += e[c];
            if (r0 + r < a.T && sum != 0.f) atomicAdd(entG + r0 + r, -kLn2 * sum);
        }
    };
    loadTile<BK, D, kNT>(sK, kg, a.kStride, k0, a.T);
    cpAsyncCommit();
    for (int c = threadIdx.x; c < BK; c += kNT) sLow[c] = sWin[c] = 0.f;
    cpAsyncWait<0>();
    __syncthreads();

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, c2 = 2 * (lane & 3), r8 = lane >> 2;
    const int cw = warp * 16 * kFr;  // this warp's first column in the tile
    wmma::fragment<wmma::matrix_b, 16, 16, 16, E, wmma::col_major> bF[D / 16][kFr];
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk)
#pragma unroll
        for (int j = 0; j < kFr; ++j) wmma::load_matrix_sync(bF[kk][j], sK + (cw + j * 16) * kLd + kk * 16, kLd);
    __syncthreads();  // the K tile's space now takes the Q buffers
    loadQ(0, qLo);
    cpAsyncCommit();
    const float sl2 = a.scale * kLog2e;
    float colR[kFr * 4] = {};

    for (int n = 0; n < nTiles; ++n) {
        const int q0 = qLo + n * BQ, buf = n & 1;
        if (kEnt && n > 0) flushEnt(buf ^ 1, q0 - BQ);  // the previous tile's, complete since its barrier
        if (n + 1 < nTiles) {
            loadQ(buf ^ 1, q0 + BQ);
            cpAsyncCommit();
            cpAsyncWait<1>();
        } else {
            cpAsyncWait<0>();
        }
        __syncthreads();
        const bool full = q0 >= kEnd - 1 && q0 + BQ <= a.T && kEnd == k0 + BK &&
                          (a.window == 0 || q0 + BQ - 1 - k0 < a.window);
        const bool special = q0 < a.minQueryPos || (winOn && q0 + BQ > a.windowStart);
        const E* qb = sQ + buf * BQ * kLd;
        const float* lb = sL + buf * BQ;
        // Two compiled variants of the tile: most tiles are fully visible and ordinary, and the
        // predicated mask and special-row code would otherwise take issue slots on every logit.
        auto tile = [&](auto generalTag) {
            constexpr bool kGeneral = decltype(generalTag)::value;
#pragma unroll 1
            for (int sl = 0; sl < BQ / 16; ++sl) {
                wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[kFr];
#pragma unroll
                for (int j = 0; j < kFr; ++j) wmma::fill_fragment(acc[j], 0.f);
#pragma unroll
                for (int kk = 0; kk < D / 16; ++kk) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, E, wmma::row_major> aF;
                    wmma::load_matrix_sync(aF, qb + sl * 16 * kLd + kk * 16, kLd);
#pragma unroll
                    for (int j = 0; j < kFr; ++j) wmma::mma_sync(acc[j], aF, bF[kk][j], acc[j]);
                }
                const int rA = sl * 16 + r8;
                const float lA = lb[rA], lB = lb[rA + 8];
                float low[kFr * 4] = {}, win[kFr * 4] = {};
                float uA = 0.f, uB = 0.f;  // sum p (s2 - lse2) of rows rA, rA + 8 over this lane's columns
#pragma unroll
                for (int j = 0; j < kFr; ++j)
#pragma unroll
                    for (int e = 0; e < 8; ++e) {
                        const int i = q0 + rA + accRow(e), col = k0 + cw + j * 16 + c2 + accCol(e);
                        const float dl = fmaf(acc[j].x[e], sl2, -((e & 2) ? lB : lA));
                        float p = exp2Approx(dl);
                        if (kGeneral && !full && (i >= a.T || col >= a.T || col > i || (a.window > 0 && i - col >= a.window))) p = 0.f;
                        if (kEnt) ((e & 2) ? uB : uA) += p * dl;
                        const int c = j * 4 + (e & 1) + ((e & 4) >> 1);
                        if (!kGeneral || !special) {
                            colR[c] += p;
                        } else {
                            if (i >= a.minQueryPos) colR[c] += p; else low[c] += p;
                            if (winOn && i >= a.windowStart) win[c] += p;
                        }
                    }
                if (kGeneral && special) {  // warp-uniform: reduce over the 8 row groups, one atomic per column
#pragma unroll
                    for (int c = 0; c < kFr * 4; ++c) {
#pragma unroll
                        for (int off = 4; off < 32; off <<= 1) {
                            low[c] += __shfl_xor_sync(0xffffffffu, low[c], off);
                            win[c] += __shfl_xor_sync(0xffffffffu, win[c], off);
                        }
                        if (r8 == 0) {
                            const int col = cw + (c >> 2) * 16 + c2 + (c & 1) + ((c & 2) ? 8 : 0);
                            atomicAdd(sLow + col, low[c]);
                            atomicAdd(sWin + col, win[c]);
                        }
                    }
                }
                if (kEnt) {  // every slice writes all its rows' partials, so no clearing is needed
                    float* e = sEnt + (buf * BQ + rA) * kEntLd + warp * 4 + (lane & 3);
                    e[0] = uA;
                    e[8 * kEntLd] = uB;
                }
            }
        };
        if (full && !special) tile(std::false_type{});
        else tile(std::true_type{});
        __syncthreads();  // this Q / lse buffer is refilled next iteration
    }
    if (kEnt) flushEnt((nTiles - 1) & 1, qLo + (nTiles - 1) * BQ);
#pragma unroll
    for (int c = 0; c < kFr * 4; ++c)
#pragma unroll
        for (int off = 4; off < 32; off <<= 1) colR[c] += __shfl_xor_sync(0xffffffffu, colR[c], off);
    if (r8 == 0)
#pragma unroll
        for (int c = 0; c < kFr * 4; ++c) {
            const int local = cw + (c >> 2) * 16 + c2 + (c & 1) + ((c & 2) ? 8 : 0), j = k0 + local;
            if (j >= a.T) continue;
            const int64_t o = int64_t(hh) * a.T + j;
            a.colSumR[o] = colR[c];
            a.colSum[o] = colR[c] + sLow[local];
            if (winOn) a.winSum[o] = sWin[local];
        }
}

// ---------------------------------------------------------------------------------------
// Pass 2 with pooled maps: one block per (head, key tile of BK keys); the keys stay in shared
// memory, query tiles of BQ rows stream through a double buffer, logits are staged in shared
// memory. Thread t owns column t % BK and rows of part t / BK, so column sums live in
// registers; pooled cells are flushed per warp. (Only instantiated with kOverview = true.)

// Segmented warp reduction of one pooled cell row (lanes with equal column cell cc) and
// atomic accumulation into the map. Every lane of the warp calls it together.
__device__ __forceinline__ void flushCells(float s, float m, int cc, int rc, float* ovSum, float* ovMax,
                                           int C) {
    const unsigned all = 0xffffffffu;
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
        const float s2 = __shfl_down_sync(all, s, off), m2 = __shfl_down_sync(all, m, off);
        const int c2 = __shfl_down_sync(all, cc, off);
        if (lane + off < 32 && c2 == cc) {
            s += s2;
            m = fmaxf(m, m2);
        }
    }
    const int prev = __shfl_up_sync(all, cc, 1);
    if (rc >= 0 && cc >= 0 && (lane == 0 || prev != cc) && s > 0.f) {
        atomicAdd(ovSum + int64_t(rc) * C + cc, s);
        atomicMax(reinterpret_cast<int*>(ovMax + int64_t(rc) * C + cc), __float_as_int(m));  // p >= 0
    }
}

struct ColAcc {
    float sum = 0.f, sumR = 0.f, win = 0.f;
    float cellS = 0.f, cellM = 0.f;
    int curRc = -1;
};

template <bool kMasked, bool kOverview, int RPT, int kLds>
__device__ __forceinline__ void accumulateColumn(ColAcc& c, const AttnStatsArgs& a, const float* sS,
                                                 const float* sL, const int* sRc, int col, int rBegin,
                                                 int q0, int j, int cc, float* ovSum, float* ovMax) {
    const float sl2 = a.scale * kLog2e;
    const bool winOn = a.winSum != nullptr;
#pragma unroll 4
    for (int r = rBegin; r < rBegin + RPT; ++r) {
        const int i = q0 + r;
        float p = exp2Approx(fmaf(sS[r * kLds + col], sl2, -sL[r]));
        if (kMasked && (i >= a.T || j >= a.T || j > i || (a.window > 0 && i - j >= a.window))) p = 0.f;
        c.sum += p;
        if (i >= a.minQueryPos) c.sumR += p;
        if (winOn && i >= a.windowStart) c.win += p;
        if (kOverview) {
            const int rc = sRc[r];
            if (rc != c.curRc) {  // warp-uniform: every lane walks the same rows
                flushCells(c.cellS, c.cellM, cc, c.curRc, ovSum, ovMax, a.ovCols);
                c.curRc = rc;
                c.cellS = 0.f;
                c.cellM = 0.f;
            }
            c.cellS += p;
            c.cellM = fmaxf(c.cellM, p);
        }
    }
}

template <int D, int BQ, int BK, class E, bool kOverview>
__global__ void __launch_bounds__(BQ * 2) colStatsKernel(AttnStatsArgs a) {
    constexpr int kNT = BQ * 2, kLd = D + 8, kLds = BK + 4, kTpc = kNT / BK, kRpt = BQ / kTpc;
    static_assert(kNT % BK == 0 && BK % 32 == 0, "a warp must own whole columns of one part");
    extern __shared__ __align__(128) unsigned char smem[];
    E* sK = reinterpret_cast<E*>(smem);
    E* sQ = sK + BK * kLd;                                    // two buffers
    float* sS = reinterpret_cast<float*>(sQ + 2 * BQ * kLd);  // [BQ][kLds]
    float* sL = sS + BQ * kLds;                               // two buffers of BQ lse2 values
    int* sRc = reinterpret_cast<int*>(sL + 2 * BQ);           // [BQ] pooled row cell

    const int hh = blockIdx.x, h = a.head0 + hh, g = h / (a.H / a.Hkv);
    const int k0 = blockIdx.y * BK;  // key tile 0 has the most rows: scheduled first
    const int kEnd = min(a.T, k0 + BK);
    const int qLo = k0 / BQ * BQ;
    const int qHi = a.window > 0 ? min(a.T, kEnd - 1 + a.window) : a.T;
    const int nTiles = (qHi - qLo + BQ - 1) / BQ;
    const E* qg = static_cast<const E*>(a.q) + int64_t(h) * D;
    const E* kg = static_cast<const E*>(a.k) + int64_t(g) * D;
    const float* lse = a.lse2 + int64_t(hh) * a.T;
    float* ovSum = kOverview ? a.ovSum + int64_t(hh) * a.ovRows * a.ovCols : nullptr;
    float* ovMax = kOverview ? a.ovMax + int64_t(hh) * a.ovRows * a.ovCols : nullptr;

    auto loadQ = [&](int buf, int r0) {
        loadTile<BQ, D, kNT>(sQ + buf * BQ * kLd, qg, a.qStride, r0, a.T);
        for (int r = threadIdx.x; r < BQ; r += kNT) cpAsync4(sL + buf * BQ + r, lse + (r0 + r < a.T ? r0 + r : 0), r0 + r < a.T);
    };
    loadTile<BK, D, kNT>(sK, kg, a.kStride, k0, a.T);
    loadQ(0, qLo);
    cpAsyncCommit();

    const int warp = threadIdx.x / 32, col = threadIdx.x % BK, part = threadIdx.x / BK;
    const int j = k0 + col;
    const int cc = kOverview && j < a.T ? int(int64_t(j) * a.ovCols / a.T) : -1;
    ColAcc acc;
    for (int n = 0; n < nTiles; ++n) {
        const int q0 = qLo + n * BQ, buf = n & 1;
        if (n + 1 < nTiles) {
            loadQ(buf ^ 1, q0 + BQ);
            cpAsyncCommit();
            cpAsyncWait<1>();
        } else {
            cpAsyncWait<0>();
        }
        __syncthreads();
        warpLogits<D, BK>(sQ + buf * BQ * kLd + warp * 16 * kLd, sK, sS + warp * 16 * kLds);
        if (kOverview)
            for (int r = threadIdx.x; r < BQ; r += kNT)
                sRc[r] = q0 + r < a.T ? int(int64_t(q0 + r) * a.ovRows / a.T) : -1;
        __syncthreads();
        const bool full = q0 >= kEnd - 1 && q0 + BQ <= a.T && kEnd == k0 + BK &&
                          (a.window == 0 || q0 + BQ - 1 - k0 < a.window);
        const float* l = sL + buf * BQ;
        if (full)
            accumulateColumn<false, kOverview, kRpt, kLds>(acc, a, sS, l, sRc, col, part * kRpt, q0, j, cc, ovSum, ovMax);
        else
            accumulateColumn<true, kOverview, kRpt, kLds>(acc, a, sS, l, sRc, col, part * kRpt, q0, j, cc, ovSum, ovMax);
        __syncthreads();  // sS, sRc and this lse buffer are reused next
    }
    if (kOverview) flushCells(acc.cellS, acc.cellM, cc, acc.curRc, ovSum, ovMax, a.ovCols);
    // Parts > 0 hand their column sums to part 0 through shared memory.
    if (kTpc > 1) {
        if (part > 0) {
            sS[(part * 3 + 0) * BK + col] = acc.sum;
            sS[(part * 3 + 1) * BK + col] = acc.sumR;
            sS[(part * 3 + 2) * BK + col] = acc.win;
        }
        __syncthreads();
        if (part == 0)
            for (int p = 1; p < kTpc; ++p) {
                acc.sum += sS[(p * 3 + 0) * BK + col];
                acc.sumR += sS[(p * 3 + 1) * BK + col];
                acc.win += sS[(p * 3 + 2) * BK + col];
            }
    }
    if (part == 0 && j < a.T) {
        const int64_t o = int64_t(hh) * a.T + j;
        a.colSum[o] = acc.sum;
        a.colSumR[o] = acc.sumR;
        if (a.winSum) a.winSum[o] = acc.win;
    }
}

// ---------------------------------------------------------------------------------------

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw std::runtime_error(std::string("attention statistics kernel: ") + what + ": " + cudaGetErrorString(e));
}

template <class K>
void launch(K kernel, dim3 grid, int threads, size_t smem, cudaStream_t s, const AttnStatsArgs& a) {
    check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), "shared memory");
    kernel<<<grid, threads, smem, s>>>(a);
    check(cudaGetLastError(), "launch");
}

// Tile shapes: pass 1 streams keys (intensity ~ BQ), pass 2 streams queries (~ BK).
constexpr int kP1Q = 128, kP1K = 64, kP2Q = 64, kP2K = 128;

template <int D, class E>
void run(const AttnStatsArgs& a) {
    auto s = static_cast<cudaStream_t>(a.stream);
    const size_t smem1 = size_t(kP1Q + 2 * kP1K) * (D + 8) * sizeof(E);
    if (a.rowPass) launch(rowStatsKernel<D, kP1Q, kP1K, E>, dim3(a.nHeads, (a.T + kP1Q - 1) / kP1Q), kP1Q * 2, smem1, s, a);
    const size_t smem2 = size_t(kP2K + 2 * kP2Q) * (D + 8) * sizeof(E) +
                         size_t(kP2Q) * (kP2K + 4) * sizeof(float) + 3 * kP2Q * sizeof(float);
    const dim3 grid2(a.nHeads, (a.T + kP2K - 1) / kP2K);
    if (a.ovRows > 0 && a.ovCols > 0)
        launch(colStatsKernel<D, kP2Q, kP2K, E, true>, grid2, kP2Q * 2, smem2, s, a);
    else {
        // 4 blocks (16 warps) per SM at d = 128 (128 registers), 5 at d = 64 (96): measured best
        // on H100 against 3 blocks and against 8 warps of one fragment each.
        const size_t smem = size_t(std::max(kP2K, 2 * kP2Q)) * (D + 8) * sizeof(E) +
                            (2 * kP2Q + 2 * kP2K + 2 * kP2Q * (kP2K / 8 + 1)) * sizeof(float);  // kParts = kNT / 8 = kP2K / 8
        if (!a.rowPass && a.entropy)
            launch(colStatsRegKernel<D, kP2Q, kP2K, E, 2, D == 64 ? 5 : 4, true>, grid2, kP2K, smem, s, a);
        else
            launch(colStatsRegKernel<D, kP2Q, kP2K, E, 2, D == 64 ? 5 : 4, false>, grid2, kP2K, smem, s, a);
    }
}

}  // namespace

bool attnStatsSupportsHeadDim(int d) { return d == 64 || d == 128; }

void launchAttnStats(const AttnStatsArgs& a) {
    if (a.T <= 0 || a.nHeads <= 0) return;
    if (!attnStatsSupportsHeadDim(a.d)) throw std::runtime_error("attention statistics kernel: unsupported head dim");
    if (a.d == 64) a.fp16 ? run<64, __half>(a) : run<64, __nv_bfloat16>(a);
    else a.fp16 ? run<128, __half>(a) : run<128, __nv_bfloat16>(a);
}

}  // namespace attnscope::kernels
