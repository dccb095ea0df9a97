#include "kernels/attention_stats_cuda.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <cmath>

#include "attnscope/error.h"
#include "kernels/attn_stats_kernels.h"

namespace attnscope::core {
namespace {

// [T, heads, d] with contiguous head rows and 16-byte aligned positions, as cp.async needs.
at::Tensor kernelLayout(const at::Tensor& t) {
    const int64_t d = t.size(2);
    const bool ok = t.stride(2) == 1 && t.stride(1) == d && t.stride(0) % 8 == 0 &&
                    reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
    return ok ? t : t.contiguous();
}

}  // namespace

bool cudaStatsApplicable(const QkView& v) {
    const auto dt = v.q.scalar_type();
    return v.q.is_cuda() && v.k.is_cuda() && v.k.scalar_type() == dt && (dt == at::kBFloat16 || dt == at::kHalf) &&
           kernels::attnStatsSupportsHeadDim(int(v.q.size(2))) && v.q.size(0) < (int64_t(1) << 30);
}

LayerStatTensors cudaLayerStats(const QkView& v, const StatsOptions& o, int ovRows, int ovCols,
                                const at::Tensor& rowLse) {
    const int64_t T = v.q.size(0), H = v.q.size(1);
    const c10::cuda::CUDAGuard guard(v.q.device());
    const at::Tensor q = kernelLayout(v.q), k = kernelLayout(v.k);
    auto f32 = at::TensorOptions().dtype(at::kFloat).device(q.device());
    LayerStatTensors s;
    s.options = o;
    s.window = v.window;
    const int R = int(std::min<int64_t>(ovRows, T)), C = int(std::min<int64_t>(ovCols, T));
    const bool maps = R > 0 && C > 0;
    // The fused forward's row LSE replaces pass 1; pass 2 then sums the entropy itself,
    // except in the pooled-map kernel, which has no row reduction.
    const bool reuseLse = rowLse.defined() && !(o.entropy && maps);
    at::Tensor lse2 = reuseLse ? (rowLse.slice(-1, 0, T).reshape({H, T}).to(at::kFloat) * 1.4426950408889634).contiguous()
                               : at::empty({H, T}, f32);
    at::Tensor entropy = reuseLse ? at::zeros({H, T}, f32) : at::empty({H, T}, f32);
    if (o.entropy) s.entropy = entropy;
    s.colSum = at::empty({H, T}, f32);
    s.colSumR = at::empty({H, T}, f32);
    if (o.windowLast > 0) s.winSum = at::empty({H, T}, f32);
    if (maps) {
        s.ovSum = at::zeros({H, R, C}, f32);
        s.ovMax = at::zeros({H, R, C}, f32);
    }
    kernels::AttnStatsArgs a;
    a.q = q.data_ptr();
    a.k = k.data_ptr();
    a.qStride = q.stride(0);
    a.kStride = k.stride(0);
    a.T = int(T);
    a.H = int(H);
    a.Hkv = int(k.size(1));
    a.d = int(q.size(2));
    a.head0 = 0;
    a.nHeads = int(H);
    a.fp16 = q.scalar_type() == at::kHalf;
    a.scale = float(v.scale);
    a.window = int(std::min<int64_t>(v.window, T));
    a.minQueryPos = int(std::min<int64_t>(o.minQueryPos, T));
    a.windowStart = int(std::max<int64_t>(0, T - o.windowLast));
    a.ovRows = maps ? R : 0;
    a.ovCols = maps ? C : 0;
    a.rowPass = !reuseLse;
    a.lse2 = lse2.data_ptr<float>();
    a.entropy = (o.entropy || !reuseLse) ? entropy.data_ptr<float>() : nullptr;  // pass 1 always writes it
    a.colSum = s.colSum.data_ptr<float>();
    a.colSumR = s.colSumR.data_ptr<float>();
    a.winSum = s.winSum.defined() ? s.winSum.data_ptr<float>() : nullptr;
    a.ovSum = s.ovSum.defined() ? s.ovSum.data_ptr<float>() : nullptr;
    a.ovMax = s.ovMax.defined() ? s.ovMax.data_ptr<float>() : nullptr;
    a.stream = c10::cuda::getCurrentCUDAStream(q.device().index()).stream();
    try {
        kernels::launchAttnStats(a);
    } catch (const std::exception& e) {
        fail(ErrorKind::Internal, e.what());
    }
    return s;
}

}  // namespace attnscope::core
