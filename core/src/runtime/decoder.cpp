#include "runtime/decoder.h"

#include <algorithm>
#include <optional>

#include "attnscope/error.h"
#include "runtime/attention.h"

namespace attnscope::core {

at::Tensor activate(const at::Tensor& x, Activation a) {
    switch (a) {
    case Activation::Silu: return at::silu(x);
    case Activation::Gelu: return at::gelu(x);
    case Activation::GeluTanh: return at::gelu(x, "tanh");
    case Activation::Relu: return at::relu(x);
    }
    return x;
}

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
    at::Tensor xf = x.to(at::kFloat);
    at::Tensor y = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
    return weight * y.to(x.scalar_type());
}

namespace {

// Debian's BLIS 0.9.0 (libtorch's host BLAS here) can read one row past the end of a small
// GEMM operand: with stories260K's 172-wide MLP activation at the top of a heap arena that read
// hit an unmapped page (SIGSEGV in sgemm, tst_screenshot_gate under load). A host activation
// therefore gets slack rows in its own allocation, so such a read stays in memory we own.
constexpr int64_t kSlackRows = 4;

at::Tensor withSlack(const at::Tensor& x) {
    if (!x.is_cpu() || x.dim() < 2 || x.numel() == 0) return x;
    const int64_t cols = x.size(-1), rows = x.numel() / cols;
    at::Tensor buffer = at::empty({rows + kSlackRows, cols}, x.options());
    buffer.narrow(0, rows, kSlackRows).zero_();
    buffer.narrow(0, 0, rows).copy_(x.reshape({rows, cols}));
    return buffer.narrow(0, 0, rows).view(x.sizes());
}

at::Tensor linear(const at::Tensor& x0, const at::Tensor& w, const at::Tensor& b) {
    const at::Tensor x = withSlack(x0);
    return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
}

}  // namespace

Decoder::Decoder(ModelConfig config, Weights weights, at::Device device, at::ScalarType dtype)
    : m_config(std::move(config)), m_weights(std::move(weights)), m_device(device), m_dtype(dtype) {
    m_rope = buildRopeTables(m_config.rope, m_config.contextLength, m_device);
}

at::Tensor Decoder::norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const {
    if (m_config.norm == NormKind::RMS) return rmsNorm(x, w, m_config.normEps);
    return at::layer_norm(x, {x.size(-1)}, w, b, m_config.normEps);
}

at::Tensor Decoder::unembed(const at::Tensor& h) const {
    return linear(norm(h, m_weights.finalNormW, m_weights.finalNormB), m_weights.lmHead, m_weights.lmHeadB);
}

at::Tensor Decoder::mlp(const at::Tensor& x, const LayerWeights& L) const {
    if (m_config.mlp == MlpKind::GatedSilu)
        return linear(activate(linear(x, L.wGate, L.bGate), m_config.act) * linear(x, L.wUp, L.bUp),
                      L.wDown, L.bDown);
    return linear(activate(linear(x, L.wUp, L.bUp), m_config.act), L.wDown, L.bDown);
}

namespace {

// A host copy; from CUDA into pinned memory without waiting (the trace's owner synchronizes).
at::Tensor toHost(const at::Tensor& t) {
    if (!t.is_cuda()) return t.to(at::kCPU);
    at::Tensor h = at::empty(t.sizes(), t.options().device(at::kCPU).pinned_memory(true));
    return h.copy_(t, /*non_blocking=*/true);
}

// Attention of every sequence of the batch; [B, T, H, d] in and out.
at::Tensor batchedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttnGeometry& geo, const std::stop_token& stop) {
    std::vector<at::Tensor> outs;
    for (int64_t b = 0; b < q.size(0); ++b) outs.push_back(attentionForward(q[b], k[b], v[b], geo, stop));
    return at::stack(outs, 0);
}

}  // namespace

ForwardResult Decoder::forward(const ForwardRequest& req) const {
    const ModelConfig& c = m_config;
    const bool batched = req.ids.dim() == 2;
    const at::Tensor ids = batched ? req.ids : req.ids.unsqueeze(0);  // [B, T]
    const int64_t B = ids.size(0), T = ids.size(1), H = c.nHeads, Hkv = c.nKvHeads, d = c.headDim;
    if (req.pos0 + T > c.contextLength)
        fail(ErrorKind::BadInput, "sequence of " + std::to_string(req.pos0 + T) +
                                      " tokens is longer than the model's context of " +
                                      std::to_string(c.contextLength));
    if (B != 1 && (req.cache || req.trace || !req.keyMask.empty()))
        fail(ErrorKind::Internal, "KV cache, trace and key mask need a batch of one sequence");
    if (!req.keyMask.empty() && int(req.keyMask.size()) != c.nLayers)
        fail(ErrorKind::Internal, "the key mask needs one entry per layer");
    std::optional<at::NoGradGuard> noGrad;
    if (!req.training) noGrad.emplace();
    ForwardResult out;
    at::Tensor x = at::embedding(m_weights.tokEmb, ids);  // [B, T, D]
    if (c.learnedPositions)
        x = x + m_weights.posEmb.slice(0, req.pos0, req.pos0 + T);

    AttnGeometry geo;
    geo.scale = c.logitScale();
    geo.window = c.slidingWindow;
    geo.qPos0 = req.pos0;
    geo.kPos0 = 0;

    for (int l = 0; l < c.nLayers; ++l) {
        if (req.job.stopRequested()) fail(ErrorKind::Cancelled, "run cancelled");
        const LayerWeights& L = m_weights.layers[size_t(l)];
        const at::Tensor residIn = x;
        const at::Tensor attnIn = norm(x, L.attnNormW, L.attnNormB);
        at::Tensor q = linear(attnIn, L.wq, L.bq).view({B, T, H, d});
        at::Tensor k = linear(attnIn, L.wk, L.bk).view({B, T, Hkv, d});
        at::Tensor v = linear(attnIn, L.wv, L.bv).view({B, T, Hkv, d});
        if (c.qkNorm) {
            q = rmsNorm(q, L.qNorm, c.normEps);
            k = rmsNorm(k, L.kNorm, c.normEps);
        }
        const at::Tensor qPre = q, kPre = k;
        q = applyRope(q, m_rope, req.pos0, c.rope);
        k = applyRope(k, m_rope, req.pos0, c.rope);
        at::Tensor kAll = k, vAll = v;
        if (req.cache) {
            auto& ck = req.cache->k;
            auto& cv = req.cache->v;
            if (ck.size() < size_t(c.nLayers)) { ck.resize(size_t(c.nLayers)); cv.resize(size_t(c.nLayers)); }
            ck[size_t(l)] = ck[size_t(l)].defined() ? at::cat({ck[size_t(l)], k[0]}, 0) : k[0];
            cv[size_t(l)] = cv[size_t(l)].defined() ? at::cat({cv[size_t(l)], v[0]}, 0) : v[0];
            kAll = ck[size_t(l)].unsqueeze(0);
            vAll = cv[size_t(l)].unsqueeze(0);
        }
        if (!req.keyMask.empty()) geo.keyMask = req.keyMask[size_t(l)].to(m_device);
        const bool statsHook = req.onLayerQk && !req.cache && B == 1;
        at::Tensor rowLse;
        at::Tensor headOut =
            statsHook  // [B,T,H,d]
                ? attentionForward(q[0], kAll[0], vAll[0], geo, req.job.stop, req.wantRowLse ? &rowLse : nullptr)
                      .unsqueeze(0)
                : batchedAttention(q, kAll, vAll, geo, req.job.stop);
        if (statsHook) req.onLayerQk(l, q[0], k[0], rowLse);
        if (req.attentionOverride) {
            if (req.cache || B != 1)
                fail(ErrorKind::Internal, "an attention override needs one sequence without a cache");
            LayerCapture in;
            in.qPre = qPre[0];
            in.kPre = kPre[0];
            in.q = q[0];
            in.k = k[0];
            in.v = v[0];
            const at::Tensor replaced = req.attentionOverride(l, in, headOut[0]);
            if (replaced.defined()) headOut = replaced.to(headOut.options()).reshape(headOut.sizes());
        }
        at::Tensor attn = linear(headOut.reshape({B, T, H * d}), L.wo, L.bo);
        const bool hooks = req.attnOutOverride || req.mlpOverride || req.residOverride;
        if (hooks && (req.cache || B != 1))
            fail(ErrorKind::Internal, "intervention hooks need one sequence without a cache");
        auto hook = [&](const std::function<at::Tensor(int, const at::Tensor&)>& f, at::Tensor& t) {
            if (!f) return;
            const at::Tensor r = f(l, t[0]);
            if (r.defined()) t = r.to(t.options()).reshape(t.sizes());
        };
        hook(req.attnOutOverride, attn);
        at::Tensor mlpIn, mlpOut;
        if (c.parallelResidual) {
            mlpIn = norm(x, L.mlpNormW, L.mlpNormB);
            mlpOut = mlp(mlpIn, L);
            hook(req.mlpOverride, mlpOut);
            x = x + attn + mlpOut;
        } else {
            const at::Tensor h = x + attn;
            mlpIn = norm(h, L.mlpNormW, L.mlpNormB);
            mlpOut = mlp(mlpIn, L);
            hook(req.mlpOverride, mlpOut);
            x = h + mlpOut;
        }
        hook(req.residOverride, x);
        if (req.trace) {
            const TracePolicy& p = *req.trace;
            // On-device unless the policy asks for host memory (long prompts on a GPU).
            auto keep = [&](const at::Tensor& t) { return p.onDevice ? t[0] : toHost(t[0]); };
            LayerCapture cap;
            // Layers outside p.layers get an empty capture.
            if (p.layers.empty() || std::find(p.layers.begin(), p.layers.end(), l) != p.layers.end()) {
                if (p.keepQk) { cap.q = keep(q); cap.k = keep(k); }
                if (p.keepResidual) { cap.residIn = keep(residIn); cap.residOut = keep(x); cap.attnIn = keep(attnIn); }
                if (p.keepPreRope) { cap.qPre = keep(qPre); cap.kPre = keep(kPre); }
                if (p.keepValues) { cap.v = keep(v); cap.headOut = keep(headOut); }
                if (p.keepMlp) { cap.mlpIn = keep(mlpIn); cap.mlpOut = keep(mlpOut); }
            }
            out.layers.push_back(std::move(cap));
        }
        req.job.report(double(l + 1) / c.nLayers);
    }
    if (req.cache) req.cache->length += T;
    at::Tensor last = req.allLogits ? x : x.slice(1, T - 1, T);
    out.logits = unembed(last).to(at::kFloat);
    if (!batched) out.logits = out.logits[0];
    return out;
}

}  // namespace attnscope::core
