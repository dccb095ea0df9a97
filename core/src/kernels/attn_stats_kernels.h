// Fused attention statistics on the GPU (reference sinks-and-kv-eviction.md §1.5), torch-free:
// pass 1 (one block per query tile) streams key tiles and keeps each row's online max, sum
// and entropy accumulator; pass 2 (one block per key tile) keeps its keys in shared memory,
// streams the query tiles below the diagonal, recomputes the logits and accumulates column
// quantities from exp(S - LSE). Both passes use tensor cores (WMMA bf16/fp16, fp32
// accumulation) and skip tiles that the causal/sliding-window mask hides entirely.
#pragma once
#include <cstdint>

namespace attnscope::kernels {

struct AttnStatsArgs {
    const void* q = nullptr;     // [T, H, d] post-RoPE, bf16 or fp16; position stride qStride elements
    const void* k = nullptr;     // [T, Hkv, d]; query head h reads kv head h / (H / Hkv)
    int64_t qStride = 0, kStride = 0;
    int T = 0, H = 0, Hkv = 0, d = 0;
    int head0 = 0, nHeads = 0;   // heads [head0, head0 + nHeads) are computed; outputs index h - head0
    bool fp16 = false;           // false: bf16
    float scale = 1.f;           // logit scale
    int window = 0;              // sliding window (0: full causal)
    int minQueryPos = 0;         // colSumR sums rows i >= minQueryPos
    int windowStart = 0;         // winSum sums rows i >= windowStart (ignored when winSum is null)
    int ovRows = 0, ovCols = 0;  // > 0: block-pooled maps, cell of row i = i*ovRows/T (same for keys)
    bool rowPass = true;         // false: lse2 is given (from the attention forward); pass 2 then
                                 // adds entropy into the zeroed entropy rows (if not null, no maps)
    // Outputs, float32, [nHeads, T] unless noted. Accumulated ones must be zeroed.
    float* lse2 = nullptr;       // log2-sum-exp2 of the logits in log2 units (pass 1 -> pass 2)
    float* entropy = nullptr;    // row entropy in nats (pass 1, or pass 2 without rowPass)
    float* colSum = nullptr;     // sum over all rows
    float* colSumR = nullptr;    // sum over rows i >= minQueryPos
    float* winSum = nullptr;     // optional
    float* ovSum = nullptr;      // optional [nHeads, ovRows, ovCols], zeroed: sum per cell
    float* ovMax = nullptr;      // optional [nHeads, ovRows, ovCols], zeroed: max per cell
    void* stream = nullptr;      // cudaStream_t
};

// Head dims with a compiled kernel (others use the ATen tiled path).
bool attnStatsSupportsHeadDim(int d);

// Queues both passes on args.stream; throws std::runtime_error on a launch error.
void launchAttnStats(const AttnStatsArgs& args);

}  // namespace attnscope::kernels
