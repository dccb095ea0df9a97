#include "runtime/attention.h"

#include <algorithm>
#include <limits>

#include <torch/version.h>

#include "attnscope/error.h"
#include "runtime/attention_cpu.h"

namespace attnscope::core {

at::Tensor attentionMask(int64_t Tq, int64_t Tk, const AttnGeometry& g, at::Device device) {
    auto opts = at::TensorOptions().dtype(at::kLong).device(device);
    at::Tensor qp = at::arange(g.qPos0, g.qPos0 + Tq, opts).unsqueeze(1);
    at::Tensor kp = at::arange(g.kPos0, g.kPos0 + Tk, opts).unsqueeze(0);
    at::Tensor visible = kp <= qp;
    if (g.window > 0) visible = visible.logical_and(qp - kp < g.window);
    return visible;
}

at::Tensor attentionLogits(const at::Tensor& q, const at::Tensor& k, const AttnGeometry& g) {
    const int64_t Tq = q.size(0), H = q.size(1), d = q.size(2);
    const int64_t Tk = k.size(0), Hkv = k.size(1), G = H / Hkv;
    // Group the query heads by KV head so K is never repeated in memory.
    at::Tensor qg = q.to(at::kFloat).reshape({Tq, Hkv, G, d}).permute({1, 2, 0, 3});  // [Hkv,G,Tq,d]
    at::Tensor kt = k.to(at::kFloat).permute({1, 2, 0}).unsqueeze(1);               // [Hkv,1,d,Tk]
    at::Tensor s = at::matmul(qg, kt).reshape({H, Tq, Tk}).mul_(g.scale);
    at::Tensor visible = attentionMask(Tq, Tk, g, q.device()).unsqueeze(0);  // [1,Tq,Tk]
    if (g.keyMask.defined()) {
        at::Tensor m = g.keyMask.slice(1, g.kPos0, g.kPos0 + Tk);  // [Hm,Tk]
        if (m.size(0) != H) m = m.repeat_interleave(H / m.size(0), 0);
        visible = visible.logical_and(m.unsqueeze(1));  // [H,Tq,Tk]
    }
    return s.masked_fill_(visible.logical_not(), -std::numeric_limits<float>::infinity());
}

at::Tensor attentionProbs(const at::Tensor& q, const at::Tensor& k, const AttnGeometry& g) {
    return at::softmax(attentionLogits(q, k, g), -1);
}

int64_t queryBlockRows(int64_t heads, int64_t keys, int64_t budgetBytes) {
    const int64_t perRow = std::max<int64_t>(1, heads * keys * int64_t(sizeof(float)));
    return std::max<int64_t>(1, budgetBytes / perRow);
}

#if TORCH_VERSION_MAJOR >= 3 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
namespace {

// Plain causal self-attention through SDPA (flash / cuDNN kernels on CUDA; GQA without
// repeating K and V). [T, H, d] in and out.
at::Tensor sdpaCausal(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale, at::Tensor* rowLse) {
    auto heads = [](const at::Tensor& t) { return t.permute({1, 0, 2}).unsqueeze(0); };  // [1, heads, T, d]
    const bool gqa = k.size(1) != q.size(1);
    if (rowLse && q.scalar_type() != at::kFloat) {
        // A fused kernel itself, for its row log-sum-exp (the statistics' first pass for free).
        // cuDNN first: it is what SDPA picks on Hopper (1.8x FA2 at 32K, GQA without repeats).
#if TORCH_VERSION_MAJOR >= 3 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 6)
        try {
            auto r = at::_scaled_dot_product_cudnn_attention(heads(q), heads(k), heads(v), std::nullopt,
                                                             /*compute_log_sumexp=*/true, 0.0, /*is_causal=*/true,
                                                             false, scale);
            *rowLse = std::get<1>(r)[0].reshape({q.size(1), q.size(0)});  // [H, T]
            return std::get<0>(r).squeeze(0).permute({1, 0, 2}).contiguous();
        } catch (const c10::Error&) {  // no cuDNN attention for this GPU / shape: FlashAttention-2
        }
#endif
        auto expand = [&](const at::Tensor& t) { return gqa ? t.repeat_interleave(q.size(1) / t.size(1), 1) : t; };
        auto r = at::_scaled_dot_product_flash_attention(heads(q), heads(expand(k)), heads(expand(v)), 0.0,
                                                         /*is_causal=*/true, false, scale);
        *rowLse = std::get<1>(r)[0];  // [H, T]
        return std::get<0>(r).squeeze(0).permute({1, 0, 2}).contiguous();
    }
    at::Tensor o = at::scaled_dot_product_attention(heads(q), heads(k), heads(v), {}, 0.0, /*is_causal=*/true,
                                                    scale, /*enable_gqa=*/gqa);
    return o.squeeze(0).permute({1, 0, 2}).contiguous();
}

}  // namespace
#endif

at::Tensor attentionForward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttnGeometry& g, const std::stop_token& stop, at::Tensor* rowLse) {
    const int64_t Tq = q.size(0), H = q.size(1), d = q.size(2);
    const int64_t Hkv = k.size(1), G = H / Hkv, Tk = k.size(0);
#if TORCH_VERSION_MAJOR >= 3 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
    // The fastest exact attention libtorch has, where its causal mask is ours: a prefill
    // without KV-eviction masks or a window that could hide keys. (The CPU keeps the
    // float32 row-block path, which the CPU tests compare against HF.)
    if (q.is_cuda() && !g.keyMask.defined() && (g.window == 0 || g.window >= Tk) && g.qPos0 == g.kPos0 && Tq == Tk)
        return sdpaCausal(q, k, v, g.scale, rowLse);
#endif
    (void)rowLse;
    if (q.is_cpu()) return attentionForwardCpu(q, k, v, g, stop);  // per-head cache-sized tiles
    at::Tensor vg = v.to(at::kFloat).permute({1, 0, 2}).unsqueeze(1);  // [Hkv,1,Tk,d]
    const int64_t block = queryBlockRows(H, Tk);
    std::vector<at::Tensor> outs;
    for (int64_t q0 = 0; q0 < Tq; q0 += block) {
        if (stop.stop_requested()) fail(ErrorKind::Cancelled, "run cancelled");
        const int64_t q1 = std::min(Tq, q0 + block);
        AttnGeometry gb = g;
        gb.qPos0 = g.qPos0 + q0;
        // Keys after the last query of the block are invisible: skip them.
        const int64_t kEnd = std::min(Tk, gb.qPos0 + (q1 - q0) - g.kPos0);
        const int64_t kBegin = g.window > 0 ? std::clamp<int64_t>(gb.qPos0 - g.window + 1 - g.kPos0, 0, kEnd) : 0;
        gb.kPos0 = g.kPos0 + kBegin;
        at::Tensor p = attentionProbs(q.slice(0, q0, q1), k.slice(0, kBegin, kEnd), gb);  // [H,b,K]
        at::Tensor o = at::matmul(p.reshape({Hkv, G, q1 - q0, kEnd - kBegin}),
                                  vg.slice(2, kBegin, kEnd));  // [Hkv,G,b,d]
        outs.push_back(o.reshape({H, q1 - q0, d}).permute({1, 0, 2}));
    }
    return at::cat(outs, 0).to(q.scalar_type()).contiguous();
}

}  // namespace attnscope::core
