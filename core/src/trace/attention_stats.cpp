#include <algorithm>
#include <cmath>
#include <limits>

#include "attnscope/error.h"
#include "runtime/attention.h"
#include "trace/attention_stats_impl.h"
#ifdef ATTNSCOPE_WITH_CUDA
#include "kernels/attention_stats_cuda.h"  // fused statistics kernels for CUDA bf16/fp16 traces
#include "trace/layer_stats.h"                // toHeadStats, overviewFromStats
#endif

namespace attnscope::core {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Keys that rows [q0, q1) can see: [lo, q1).
int64_t firstVisibleKey(const QkView& v, int64_t q0) {
    return v.window > 0 ? std::max<int64_t>(0, q0 - v.window + 1) : 0;
}

// Selects one query head (and its KV head) so single-head requests cost 1/H.
QkView selectHead(const QkView& v, int head) {
    if (head < 0) return v;
    const int64_t H = v.q.size(1), Hkv = v.k.size(1);
    if (head >= H) fail(ErrorKind::BadInput, "head " + std::to_string(head) + " out of range (model has " + std::to_string(H) + ")");
    const int64_t g = head / (H / Hkv);
    return {v.q.slice(1, head, head + 1), v.k.slice(1, g, g + 1), v.scale, v.window};
}

AttnGeometry geometry(const QkView& v, int64_t q0, int64_t k0) {
    AttnGeometry g;
    g.scale = v.scale;
    g.window = v.window;
    g.qPos0 = q0;
    g.kPos0 = k0;
    return g;
}

}  // namespace

at::Tensor rowLogSumExp(const QkView& v, int64_t q0, int64_t q1, int64_t blockK) {
    const int64_t H = v.q.size(1);
    auto opts = at::TensorOptions().dtype(at::kFloat).device(v.q.device());
    at::Tensor m = at::full({H, q1 - q0}, kNegInf, opts);
    at::Tensor l = at::zeros({H, q1 - q0}, opts);
    const at::Tensor qb = v.q.slice(0, q0, q1);
    for (int64_t k0 = firstVisibleKey(v, q0) / blockK * blockK; k0 < q1; k0 += blockK) {
        const int64_t k1 = std::min(q1, k0 + blockK);
        at::Tensor s = attentionLogits(qb, v.k.slice(0, k0, k1), geometry(v, q0, k0));
        at::Tensor mNew = at::maximum(m, std::get<0>(s.max(-1)));
        // Rows with nothing visible yet keep m = -inf; shift by 0 there to avoid inf-inf.
        at::Tensor shift = at::where(at::isinf(mNew), at::zeros_like(mNew), mNew);
        l = l * at::exp(m - shift) + at::exp(s - shift.unsqueeze(-1)).sum(-1);
        m = mNew;
    }
    return m + at::log(l);
}

std::vector<HeadStats> tiledHeadStats(const QkView& v, const StatsOptions& o) {
    const int64_t T = v.q.size(0), H = v.q.size(1);
    if (o.blockQ <= 0 || o.blockK <= 0) fail(ErrorKind::BadInput, "stats block sizes must be > 0");
    if (o.minQueryPos < 0 || o.windowLast < 0) fail(ErrorKind::BadInput, "stats options must be >= 0");
#ifdef ATTNSCOPE_WITH_CUDA
    if (cudaStatsApplicable(v)) {
        std::vector<HeadStats> fused = toHeadStats(cudaLayerStats(v, o, 0, 0));
        if (o.diagonal) addDiagonalStats(v, o, fused);
        return fused;
    }
#endif
    auto opts = at::TensorOptions().dtype(at::kFloat).device(v.q.device());
    at::Tensor colSum = at::zeros({H, T}, opts), colSumR = at::zeros({H, T}, opts);
    at::Tensor winSum = at::zeros({H, T}, opts), entropy = at::zeros({H, T}, opts);
    const int64_t winStart = T - o.windowLast;
    StatSums sums{colSum, colSumR, winSum, entropy, {}, {}};  // same storage
    if (o.diagonal && v.q.is_cpu()) sums.diagonal = at::zeros({H, T}, opts), sums.previous = at::zeros({H, T}, opts);
    if (v.q.is_cpu()) accumulateStatsCpu(v, o, sums);  // whole-row tiles, heads in parallel
    for (int64_t q0 = 0; !v.q.is_cpu() && q0 < T; q0 += o.blockQ) {
        const int64_t q1 = std::min(T, q0 + o.blockQ);
        const at::Tensor lse = rowLogSumExp(v, q0, q1, o.blockK).unsqueeze(-1);  // [H,b,1]
        const at::Tensor qb = v.q.slice(0, q0, q1);
        auto rowsFrom = [&](int64_t start) {  // [1,b,1] mask of rows i >= start
            return (at::arange(q0, q1, opts) >= float(start)).to(at::kFloat).view({1, -1, 1});
        };
        const at::Tensor keepR = rowsFrom(o.minQueryPos), keepW = rowsFrom(winStart);
        for (int64_t k0 = firstVisibleKey(v, q0) / o.blockK * o.blockK; k0 < q1; k0 += o.blockK) {
            const int64_t k1 = std::min(q1, k0 + o.blockK);
            at::Tensor s = attentionLogits(qb, v.k.slice(0, k0, k1), geometry(v, q0, k0));
            at::Tensor logp = s - lse;
            at::Tensor p = at::exp(logp);  // masked entries: exp(-inf) = 0
            colSum.slice(1, k0, k1).add_(p.sum(1));
            if (o.minQueryPos > q0) colSumR.slice(1, k0, k1).add_((p * keepR).sum(1));
            else colSumR.slice(1, k0, k1).add_(p.sum(1));
            if (o.windowLast > 0 && q1 > winStart) winSum.slice(1, k0, k1).add_((p * keepW).sum(1));
            at::Tensor plogp = at::where(p > 0, p * logp, at::zeros_like(p));
            entropy.slice(1, q0, q1).sub_(plogp.sum(-1));
        }
    }
    // Rows that see key j among rows i >= minQueryPos: [max(j, mqp), min(T, j + W)).
    at::Tensor j = at::arange(T, opts);
    at::Tensor lo = at::clamp_min(j, float(o.minQueryPos));
    at::Tensor hi = v.window > 0 ? at::clamp_max(j + float(v.window), float(T)) : at::full({T}, float(T), opts);
    at::Tensor count = at::clamp_min(hi - lo, 0.0f);
    at::Tensor mean = colSumR / at::clamp_min(count, 1.0f).unsqueeze(0);

    auto cpu = [](const at::Tensor& t) { return t.to(at::kCPU).contiguous(); };
    at::Tensor cs = cpu(colSum), cm = cpu(mean), en = cpu(entropy), ws = cpu(winSum), cn = cpu(count);
    std::vector<HeadStats> out(static_cast<size_t>(H));
    auto vec = [](const at::Tensor& row) {
        const float* p = row.data_ptr<float>();
        return std::vector<float>(p, p + row.numel());
    };
    for (int64_t h = 0; h < H; ++h) {
        out[size_t(h)].colSum = vec(cs[h]);
        out[size_t(h)].colMeanCausal = vec(cm[h]);
        out[size_t(h)].entropy = vec(en[h]);
        out[size_t(h)].causalCount = vec(cn);
        if (o.windowLast > 0) out[size_t(h)].windowSum = vec(ws[h]);
        if (sums.diagonal.defined()) {
            out[size_t(h)].diagonal = vec(sums.diagonal[h]);
            out[size_t(h)].previous = vec(sums.previous[h]);
        }
    }
    if (o.diagonal && !sums.diagonal.defined()) addDiagonalStats(v, o, out);
    return out;
}

void addDiagonalStats(const QkView& v, const StatsOptions& o, std::vector<HeadStats>& out) {
    const int64_t T = v.q.size(0), H = v.q.size(1), G = H / v.k.size(1);
    auto fopts = at::TensorOptions().dtype(at::kFloat).device(v.q.device());
    auto lopts = at::TensorOptions().dtype(at::kLong).device(v.q.device());
    at::Tensor diagonal = at::zeros({H, T}, fopts), previous = at::zeros({H, T}, fopts);
    for (int64_t q0 = 0; q0 < T; q0 += o.blockQ) {
        if (o.job.stopRequested()) fail(ErrorKind::Cancelled, "attention statistics cancelled");
        const int64_t q1 = std::min(T, q0 + o.blockQ);
        const at::Tensor lse = rowLogSumExp(v, q0, q1, o.blockK);  // [H, b]
        const at::Tensor rows = at::arange(q0, q1, lopts);
        const at::Tensor qb = v.q.slice(0, q0, q1).to(at::kFloat);  // [b, H, d]
        // p(i, i - offset) = exp(s·q_i·k_{i-offset} − LSE_i); 0 where that key is invisible.
        auto probability = [&](int64_t offset) {
            const at::Tensor kb = v.k.index_select(0, at::clamp_min(rows - offset, 0)).to(at::kFloat);
            const at::Tensor s = (qb * kb.repeat_interleave(G, 1)).sum(-1).mul_(v.scale).t();  // [H, b]
            at::Tensor visible = rows >= offset;
            if (v.window > 0 && offset >= v.window) visible = at::zeros_like(visible);
            return at::exp(s - lse).mul_(visible.to(at::kFloat).unsqueeze(0));
        };
        diagonal.slice(1, q0, q1).copy_(probability(0));
        previous.slice(1, q0, q1).copy_(probability(1));
    }
    const at::Tensor d = diagonal.to(at::kCPU).contiguous(), p = previous.to(at::kCPU).contiguous();
    for (int64_t h = 0; h < H && size_t(h) < out.size(); ++h) {
        out[size_t(h)].diagonal.assign(d[h].data_ptr<float>(), d[h].data_ptr<float>() + T);
        out[size_t(h)].previous.assign(p[h].data_ptr<float>(), p[h].data_ptr<float>() + T);
    }
}

at::Tensor probabilityTile(const QkView& all, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1) {
    const QkView v = selectHead(all, head);
    const int64_t H = v.q.size(1);
    at::Tensor out = at::zeros({H, q1 - q0, k1 - k0}, at::TensorOptions().dtype(at::kFloat).device(v.q.device()));
    const int64_t block = queryBlockRows(H, k1 - k0, int64_t(64) << 20);
    for (int64_t r0 = q0; r0 < q1; r0 += block) {
        const int64_t r1 = std::min(q1, r0 + block);
        const int64_t kEnd = std::min(k1, r1);  // keys after the last row are invisible
        if (kEnd <= k0) continue;
        const at::Tensor lse = rowLogSumExp(v, r0, r1, 512).unsqueeze(-1);
        at::Tensor s = attentionLogits(v.q.slice(0, r0, r1), v.k.slice(0, k0, kEnd), geometry(v, r0, k0));
        out.slice(1, r0 - q0, r1 - q0).slice(2, 0, kEnd - k0).copy_(at::exp(s - lse));
    }
    return out;
}

at::Tensor pooledOverview(const QkView& all, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1,
                          int rows, int cols, Pool pool) {
    if (rows <= 0 || cols <= 0) fail(ErrorKind::BadInput, "overview needs rows and cols > 0");
    const int64_t Q = q1 - q0, K = k1 - k0;
    const int64_t R = std::min<int64_t>(rows, Q), C = std::min<int64_t>(cols, K);
    if (all.q.is_cpu()) {
        if (head >= all.q.size(1)) selectHead(all, head);  // the range error
        return pooledOverviewCpu(all, head, q0, q1, k0, k1, R, C, pool);
    }
#ifdef ATTNSCOPE_WITH_CUDA
    // The whole map of a bf16/fp16 CUDA trace: the fused statistics kernels pool it in one
    // pass over q/k (max pooling of the head mean has no per-head form, so it stays below).
    const int64_t T = all.q.size(0);
    if (q0 == 0 && k0 == 0 && q1 == T && k1 == T && (head >= 0 || pool == Pool::Mean) && cudaStatsApplicable(all)) {
        StatsOptions o;
        o.entropy = false;
        return overviewFromStats(cudaLayerStats(selectHead(all, head), o, int(R), int(C)), head >= 0 ? 0 : -1, pool);
    }
#endif
    const QkView v = selectHead(all, head);
    auto fopts = at::TensorOptions().dtype(at::kFloat).device(v.q.device());
    auto lopts = at::TensorOptions().dtype(at::kLong).device(v.q.device());
    // Cell of each key / query: contiguous, sizes differing by at most one.
    const at::Tensor colCell = at::div(at::arange(K, lopts) * C, K, "floor");
    const at::Tensor rowCell = at::div(at::arange(Q, lopts) * R, Q, "floor");
    at::Tensor out = at::zeros({R, C}, fopts);
    const int64_t block = queryBlockRows(v.q.size(1), K, int64_t(64) << 20);
    for (int64_t r0 = q0; r0 < q1; r0 += block) {
        const int64_t r1 = std::min(q1, r0 + block);
        at::Tensor p = probabilityTile(v, -1, r0, r1, k0, k1).mean(0);  // [b, K], mean over heads
        at::Tensor ci = colCell.unsqueeze(0).expand({r1 - r0, K});
        at::Tensor byCol = at::zeros({r1 - r0, C}, fopts);
        byCol = pool == Pool::Max ? byCol.scatter_reduce(1, ci, p, "amax") : byCol.scatter_add(1, ci, p);
        at::Tensor ri = rowCell.slice(0, r0 - q0, r1 - q0).unsqueeze(1).expand({r1 - r0, C});
        out = pool == Pool::Max ? out.scatter_reduce(0, ri, byCol, "amax") : out.scatter_add(0, ri, byCol);
    }
    if (pool == Pool::Mean) {
        at::Tensor rn = at::zeros({R}, fopts).scatter_add(0, rowCell, at::ones({Q}, fopts));
        at::Tensor cn = at::zeros({C}, fopts).scatter_add(0, colCell, at::ones({K}, fopts));
        out = out / at::outer(rn, cn);
    }
    return out;
}

Matrix2D toMatrix(const at::Tensor& t) {
    at::Tensor c = t.to(at::kCPU, at::kFloat).contiguous();
    if (c.dim() == 1) c = c.unsqueeze(0);
    c = c.reshape({c.size(0), -1});
    Matrix2D m;
    m.rows = c.size(0);
    m.cols = c.size(1);
    m.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return m;
}

}  // namespace attnscope::core

namespace attnscope {
using namespace core;

std::vector<HeadStats> computeAttentionStats(const std::vector<float>& q, const std::vector<float>& k,
                                             const AttentionShape& s, const StatsOptions& o) {
    if (s.T <= 0 || s.nHeads <= 0 || s.nKvHeads <= 0 || s.headDim <= 0 || s.nHeads % s.nKvHeads)
        fail(ErrorKind::BadInput, "attention shape is invalid");
    if (int64_t(q.size()) != s.T * s.nHeads * s.headDim || int64_t(k.size()) != s.T * s.nKvHeads * s.headDim)
        fail(ErrorKind::BadInput, "q/k buffers do not match the attention shape");
    QkView v;
    v.q = at::from_blob(const_cast<float*>(q.data()), {s.T, s.nHeads, s.headDim}, at::kFloat);
    v.k = at::from_blob(const_cast<float*>(k.data()), {s.T, s.nKvHeads, s.headDim}, at::kFloat);
    v.scale = s.scale > 0 ? s.scale : 1.0 / std::sqrt(double(s.headDim));
    v.window = s.window;
    at::NoGradGuard g;
    return tiledHeadStats(v, o);
}

}  // namespace attnscope
