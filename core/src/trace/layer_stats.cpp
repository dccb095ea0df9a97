#include "trace/layer_stats.h"

#include "attnscope/error.h"
#ifdef ATTNSCOPE_WITH_CUDA
#include "kernels/attention_stats_cuda.h"
#endif

namespace attnscope::core {

int64_t LayerStatTensors::bytes() const {
    int64_t n = 0;
    for (const at::Tensor* t : {&colSum, &colSumR, &entropy, &winSum, &ovSum, &ovMax})
        if (t->defined()) n += int64_t(t->nbytes());
    return n;
}

LayerStatTensors LayerStatTensors::to(at::Device device, bool pinnedAsync) const {
    LayerStatTensors out = *this;
    for (at::Tensor* t : {&out.colSum, &out.colSumR, &out.entropy, &out.winSum, &out.ovSum, &out.ovMax}) {
        if (!t->defined() || t->device() == device) continue;
        if (pinnedAsync && device.is_cpu() && t->is_cuda()) {
            at::Tensor host = at::empty(t->sizes(), t->options().device(at::kCPU).pinned_memory(true));
            host.copy_(*t, /*non_blocking=*/true);
            *t = host;
        } else {
            *t = t->to(device);
        }
    }
    return out;
}

at::Tensor causalRowCounts(int64_t T, int64_t window, int64_t minQueryPos, const at::TensorOptions& opts) {
    at::Tensor j = at::arange(T, opts.dtype(at::kFloat));
    at::Tensor lo = at::clamp_min(j, float(minQueryPos));
    at::Tensor hi = window > 0 ? at::clamp_max(j + float(window), float(T)) : at::full({T}, float(T), j.options());
    return at::clamp_min(hi - lo, 0.0f);
}

std::vector<HeadStats> toHeadStats(const LayerStatTensors& s) {
    const int64_t H = s.colSum.size(0), T = s.colSum.size(1);
    auto cpu = [](const at::Tensor& t) { return t.to(at::kCPU).contiguous(); };
    const at::Tensor count = causalRowCounts(T, s.window, s.options.minQueryPos, at::TensorOptions());
    const at::Tensor cs = cpu(s.colSum), en = s.entropy.defined() ? cpu(s.entropy) : at::Tensor();
    const at::Tensor cm = cpu(s.colSumR) / at::clamp_min(count, 1.0f).unsqueeze(0);
    const at::Tensor ws = s.winSum.defined() ? cpu(s.winSum) : at::Tensor();
    auto vec = [](const at::Tensor& row) {
        const float* p = row.data_ptr<float>();
        return std::vector<float>(p, p + row.numel());
    };
    std::vector<HeadStats> out(static_cast<size_t>(H));
    for (int64_t h = 0; h < H; ++h) {
        HeadStats& o = out[size_t(h)];
        o.colSum = vec(cs[h]);
        o.colMeanCausal = vec(cm[h]);
        if (en.defined()) o.entropy = vec(en[h]);
        o.causalCount = vec(count);
        if (ws.defined()) o.windowSum = vec(ws[h]);
    }
    return out;
}

namespace {

// Entries per pooled cell [R, C]: rows of cell r times keys of cell c (cells as in pooledOverview).
at::Tensor cellAreas(int64_t T, int64_t R, int64_t C, at::Device device) {
    auto lopts = at::TensorOptions().dtype(at::kLong).device(device);
    auto fopts = at::TensorOptions().dtype(at::kFloat).device(device);
    auto sizes = [&](int64_t n) {
        return at::zeros({n}, fopts).scatter_add(0, at::div(at::arange(T, lopts) * n, T, "floor"), at::ones({T}, fopts));
    };
    return at::outer(sizes(R), sizes(C));
}

}  // namespace

at::Tensor overviewFromStats(const LayerStatTensors& s, int head, Pool pool) {
    if (!s.ovSum.defined()) fail(ErrorKind::NotFound, "the trace computed no overview map");
    if (pool == Pool::Max) {
        if (head < 0) fail(ErrorKind::NotFound, "the head-mean max map needs q/k (kept maps are per head)");
        return s.ovMax[head];
    }
    const at::Tensor sum = head >= 0 ? s.ovSum[head] : s.ovSum.mean(0);
    return sum / cellAreas(s.colSum.size(1), s.ovSum.size(1), s.ovSum.size(2), s.ovSum.device());
}

LayerStatTensors computeLayerStats(const QkView& v, const StatsOptions& o, int ovRows, int ovCols,
                                   const at::Tensor& rowLse) {
#ifdef ATTNSCOPE_WITH_CUDA
    if (cudaStatsApplicable(v)) return cudaLayerStats(v, o, ovRows, ovCols, rowLse);
#endif
    (void)rowLse;
    // ATen fallback: the tiled reference, then the pooled maps head by head.
    const int64_t T = v.q.size(0), H = v.q.size(1);
    const std::vector<HeadStats> hs = tiledHeadStats(v, o);
    auto rows = [&](auto field) {
        std::vector<float> all;
        for (const HeadStats& h : hs) all.insert(all.end(), (h.*field).begin(), (h.*field).end());
        return at::tensor(all).view({H, T}).to(v.q.device());
    };
    LayerStatTensors s;
    s.options = o;
    s.window = v.window;
    s.colSum = rows(&HeadStats::colSum);
    if (o.entropy) s.entropy = rows(&HeadStats::entropy);
    s.colSumR = rows(&HeadStats::colMeanCausal) * causalRowCounts(T, v.window, o.minQueryPos, s.colSum.options());
    if (o.windowLast > 0) s.winSum = rows(&HeadStats::windowSum);
    if (ovRows > 0 && ovCols > 0) {
        std::vector<at::Tensor> sums, maxs;
        for (int h = 0; h < int(H); ++h) {
            maxs.push_back(pooledOverview(v, h, 0, T, 0, T, ovRows, ovCols, Pool::Max));
            sums.push_back(pooledOverview(v, h, 0, T, 0, T, ovRows, ovCols, Pool::Mean));
        }
        s.ovMax = at::stack(maxs);
        s.ovSum = at::stack(sums) * cellAreas(T, s.ovMax.size(1), s.ovMax.size(2), v.q.device());
    }
    return s;
}

}  // namespace attnscope::core
