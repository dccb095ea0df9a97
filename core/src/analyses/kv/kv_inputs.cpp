// The expensive half of the KV lab: per-trace attention statistics of the prompt, the last
// prompt rows, the continuation's full-cache attention, values and W_O, and the inputs of
// the policies that need q/k geometry. Everything ends up float32 on the CPU.
#include <algorithm>
#include <cmath>

#include "analyses/kv/kv_tensors.h"
#include "attnscope/error.h"
#include "model/model_access.h"
#include "trace/trace_impl.h"

namespace attnscope {

using namespace kv;

namespace {

at::Tensor cpuFloat(const at::Tensor& t) { return t.to(at::kCPU, at::kFloat).contiguous(); }

void append(std::vector<float>& dst, const at::Tensor& t) {
    const at::Tensor c = cpuFloat(t);
    dst.insert(dst.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Per-layer extras beyond q/k/v: W_O [D, H*d] and the residual stream leaving the layer.
struct LayerExtras {
    std::vector<at::Tensor> wo, residOut;
};

KvInputs build(PrepareContext& ctx, const LayerExtras& extras, const AttentionShape& shape, int L,
               std::vector<int32_t> ids, const KvInputOptions& o, const JobControl& job) {
    KvInputs in;
    in.T = shape.T;
    in.promptLength = o.promptLength > 0 ? o.promptLength : shape.T;
    in.nLayers = L;
    in.nHeads = shape.nHeads;
    in.nKvHeads = shape.nKvHeads;
    in.headDim = shape.headDim;
    in.slidingWindow = shape.window;
    in.ids = std::move(ids);
    in.options = o;
    const int64_t T = in.T, Tp = in.promptLength, C = T - Tp, H = in.nHeads, Hkv = in.nKvHeads, d = in.headDim;
    if (Tp < 1 || Tp > T) fail(ErrorKind::BadInput, "the prompt length must lie in 1.." + std::to_string(T));
    if (o.windowRows < 1) fail(ErrorKind::BadInput, "the KV inputs need at least one window row");
    in.windowRows = std::min(o.windowRows, Tp);
    const int64_t W = in.windowRows;
    auto t = std::make_shared<KvEvictionTensors>();
    t->scale = ctx.views[0].scale;
    StatsOptions so;
    for (int l = 0; l < L; ++l) {
        if (job.stopRequested()) fail(ErrorKind::Cancelled, "KV inputs cancelled");
        const core::QkView& v = ctx.views[size_t(l)];
        const core::QkView prompt{v.q.slice(0, 0, Tp), v.k.slice(0, 0, Tp), v.scale, v.window};
        for (const HeadStats& s : core::tiledHeadStats(prompt, so)) in.colSum.insert(in.colSum.end(), s.colSum.begin(), s.colSum.end());
        append(in.windowProbs, core::probabilityTile(prompt, -1, Tp - W, Tp, 0, Tp));  // [H,W,Tp]
        append(in.keyNorm, v.k.norm(2, -1).t());                                       // [Hkv,T]
        const at::Tensor val = ctx.v[size_t(l)];
        append(in.valueNorm, val.slice(0, 0, Tp).norm(2, -1).t());
        const at::Tensor kk = v.k.permute({1, 0, 2}).contiguous(), vv = val.permute({1, 0, 2}).contiguous();
        t->k.push_back(kk);
        t->v.push_back(vv);
        if (C > 0) {
            const at::Tensor p = core::probabilityTile(v, -1, Tp, T, 0, T);  // [H,C,T]
            t->probs.push_back(p);
            t->q.push_back(v.q.slice(0, Tp, T).permute({1, 0, 2}).contiguous());
            t->out.push_back(at::matmul(p.reshape({Hkv, (H / Hkv) * C, T}), vv).reshape({H, C, d}));
        } else {
            t->probs.push_back(at::zeros({H, 0, T}));
            t->q.push_back(at::zeros({H, 0, d}));
            t->out.push_back(at::zeros({H, 0, d}));
        }
        if (!extras.wo.empty()) {
            const at::Tensor wo = cpuFloat(extras.wo[size_t(l)]);
            t->wo.push_back(wo.view({wo.size(0), H, d}).permute({1, 0, 2}).contiguous());  // [H,D,d]
        }
        if (!extras.residOut.empty() && extras.residOut[size_t(l)].defined())
            t->residNorm.push_back(cpuFloat(extras.residOut[size_t(l)]).slice(0, Tp, T).norm(2, -1));
        job.report(0.7 * double(l + 1) / L);
    }
    if (int(t->residNorm.size()) != L) t->residNorm.clear();
    in.tensors = t;
    prepareZipCache(in, ctx);
    job.report(0.8);
    prepareTriAttention(in, ctx);
    job.report(0.9);
    prepareExpectedAttention(in, ctx);
    job.report(1.0);
    return in;
}

// Rows of the last window a parameter set reads.
int64_t windowNeed(const KvParams& p, int64_t Tp) {
    const int64_t B = std::max<int64_t>(p.budget, 1);
    if (p.policy == "snapkv" || p.policy == "pyramidkv") return std::min({int64_t(p.get("window")), B, Tp});
    if (p.policy == "scissorhands") {
        const double w = p.get("window");
        return std::min<int64_t>(std::max<int64_t>(w >= 0 ? int64_t(w) : B / 2, 1), Tp);
    }
    return 1;
}

}  // namespace

KvInputOptions kvInputOptionsFor(const std::vector<KvParams>& params, int64_t promptLength) {
    KvInputOptions o;
    o.promptLength = promptLength;
    for (const KvParams& p : params) {
        kvPolicy(p.policy);
        o.windowRows = std::max(o.windowRows, windowNeed(p, promptLength > 0 ? promptLength : INT64_MAX));
        if (p.policy == "zipcache") {
            o.zipProbeRatio = p.get("probe_ratio");
            o.zipSeed = uint64_t(p.get("probe_seed"));
        } else if (p.policy == "triattention") {
            o.triOffsetMax = int64_t(p.get("offset_max"));
            o.triMlr = p.get("mlr") > 0;
        } else if (p.policy == "expected_attention") {
            o.expectedSink = int64_t(p.get("sink"));
            o.expectedFuture = int64_t(p.get("future"));
        }
    }
    return o;
}

bool kvNeedsRecompute(const KvInputs& in, const KvParams& p) {
    const KvInputOptions& o = in.options;
    if (windowNeed(p, in.promptLength) > in.windowRows) return true;
    if (p.policy == "zipcache") return p.get("probe_ratio") != o.zipProbeRatio || uint64_t(p.get("probe_seed")) != o.zipSeed;
    if (p.policy == "triattention") return int64_t(p.get("offset_max")) != o.triOffsetMax || (p.get("mlr") > 0) != o.triMlr;
    if (p.policy == "expected_attention")
        return int64_t(p.get("sink")) != o.expectedSink || int64_t(p.get("future")) != o.expectedFuture;
    return false;
}

KvInputs computeKvInputs(const Model& model, const Trace& trace, const KvInputOptions& o, const JobControl& job) {
    const auto* ti = dynamic_cast<const core::TraceImpl*>(&trace);
    if (!ti) fail(ErrorKind::BadInput, "computeKvInputs needs a trace from Model::run");
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const core::Decoder& dec = ModelAccess::impl(model).decoder;
        const core::ModelConfig& cfg = dec.config();
        PrepareContext ctx;
        LayerExtras extras;
        const bool pre = ti->layer(0).qPre.defined() && ti->layer(0).kPre.defined();
        for (int l = 0; l < ti->nLayers(); ++l) {
            const core::LayerCapture& c = ti->layer(l);
            if (!c.v.defined()) fail(ErrorKind::NotFound, "the KV lab needs the trace's values (TracePolicy::keepValues)");
            const core::QkView v = ti->qk(l);
            ctx.views.push_back({cpuFloat(v.q), cpuFloat(v.k), v.scale, v.window});
            ctx.v.push_back(cpuFloat(c.v));
            if (pre) {
                ctx.qPre.push_back(cpuFloat(c.qPre));
                ctx.kPre.push_back(cpuFloat(c.kPre));
            }
            extras.wo.push_back(dec.weights().layers[size_t(l)].wo);
            extras.residOut.push_back(c.residOut);
        }
        ctx.rope = &cfg.rope;
        AttentionShape shape{trace.length(), cfg.nHeads, cfg.nKvHeads, cfg.headDim, float(cfg.logitScale()),
                             cfg.slidingWindow};
        KvInputs in = build(ctx, extras, shape, ti->nLayers(), trace.ids(), o, job);
        return in;
    });
}

KvInputs computeKvInputs(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                         const AttentionShape& s, int L, const KvInputOptions& o) {
    if (L < 1 || s.T <= 0 || s.nHeads <= 0 || s.nKvHeads <= 0 || s.headDim <= 0 || s.nHeads % s.nKvHeads)
        fail(ErrorKind::BadInput, "attention shape is invalid");
    const int64_t nq = s.T * s.nHeads * s.headDim, nk = s.T * s.nKvHeads * s.headDim;
    if (int64_t(q.size()) != L * nq || int64_t(k.size()) != L * nk || int64_t(v.size()) != L * nk)
        fail(ErrorKind::BadInput, "q/k/v buffers do not match the attention shape");
    at::NoGradGuard noGrad;
    PrepareContext ctx;
    const double scale = s.scale > 0 ? s.scale : 1.0 / std::sqrt(double(s.headDim));
    for (int l = 0; l < L; ++l) {
        auto blob = [&](const std::vector<float>& x, int64_t n, int64_t heads) {
            return at::from_blob(const_cast<float*>(x.data()) + l * n, {s.T, heads, s.headDim}, at::kFloat).clone();
        };
        ctx.views.push_back({blob(q, nq, s.nHeads), blob(k, nk, s.nKvHeads), scale, s.window});
        ctx.v.push_back(blob(v, nk, s.nKvHeads));
    }
    AttentionShape shape = s;
    shape.scale = float(scale);
    return build(ctx, {}, shape, L, std::vector<int32_t>(size_t(s.T), 0), o, {});
}

}  // namespace attnscope
