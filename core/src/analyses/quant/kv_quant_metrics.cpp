// Attention error metrics of a quantized cache or quantized scores against the exact fp32
// attention (reference §5): per head the score error over the causal entries, row KL and
// total variation, and the attention-output error; per token which keys carry the score
// error and which queries' outputs move. Query rows are processed in blocks so memory stays
// O(block · T) for long prompts.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "analyses/quant/kv_detail.h"
#include "attnscope/error.h"
#include "model/model_impl.h"
#include "trace/trace_impl.h"

namespace attnscope {

namespace kv_detail {

namespace {

at::Tensor visibleBlock(int64_t q0, int64_t q1, int64_t window) {
    const at::Tensor qp = at::arange(q0, q1, at::kLong).unsqueeze(1), kp = at::arange(q1, at::kLong).unsqueeze(0);
    at::Tensor v = kp <= qp;
    if (window > 0) v = v.logical_and(qp - kp < window);
    return v;
}

}  // namespace

void layerErrors(const LayerQkv& x, const ScoresFn& scoresHat, const OutputFn& outputHat, int layer,
                 AttnQuantResult& r) {
    const int64_t T = x.T(), H = x.H(), g = H / x.Hkv();
    const int64_t block = std::clamp<int64_t>((int64_t(32) << 20) / std::max<int64_t>(T * 4, 1), 1, T);
    at::Tensor colSq = at::zeros({T}, at::kDouble), rowErr = at::zeros({T}, at::kDouble),
               rowRef = at::zeros({T}, at::kDouble);
    double layerSq = 0;
    const float inf = std::numeric_limits<float>::infinity();
    for (int64_t h = 0; h < H; ++h) {
        const at::Tensor qh = x.q.select(1, h), kh = x.k.select(1, h / g), vh = x.v.select(1, h / g);
        double sq = 0, ref = 0, mx = 0, klSum = 0, klMax = 0, tvSum = 0, oErr = 0, oRef = 0;
        for (int64_t q0 = 0; q0 < T; q0 += block) {
            const int64_t q1 = std::min(T, q0 + block);
            const at::Tensor hidden = visibleBlock(q0, q1, x.window).logical_not();
            const at::Tensor s = qh.slice(0, q0, q1).mm(kh.slice(0, 0, q1).t()) * x.scale;
            const at::Tensor sh = scoresHat(int(h), q0, q1);
            const at::Tensor ds = (s - sh).masked_fill(hidden, 0).to(at::kDouble);
            const at::Tensor ds2 = ds.pow(2);
            sq += ds2.sum().item<double>();
            ref += s.masked_fill(hidden, 0).to(at::kDouble).pow(2).sum().item<double>();
            mx = std::max(mx, ds.abs().max().item<double>());
            colSq.slice(0, 0, q1).add_(ds2.sum(0));
            const at::Tensor lhat = sh.masked_fill(hidden, -inf);
            const at::Tensor lp = at::log_softmax(s.masked_fill(hidden, -inf), -1), lph = at::log_softmax(lhat, -1);
            const at::Tensor p = lp.exp(), ph = lph.exp();
            const at::Tensor kl = (p * (lp - lph)).masked_fill(hidden, 0).sum(1);  // NaN at −inf−(−inf) masked away
            klSum += kl.sum().item<double>();
            klMax = std::max(klMax, kl.max().item<double>());
            tvSum += (0.5 * (p - ph).abs().sum(1)).sum().item<double>();
            const at::Tensor o = p.mm(vh.slice(0, 0, q1)), oh = outputHat(int(h), q0, q1, lhat);
            const at::Tensor e2 = (o - oh).to(at::kDouble).pow(2).sum(1), r2 = o.to(at::kDouble).pow(2).sum(1);
            rowErr.slice(0, q0, q1).add_(e2);
            rowRef.slice(0, q0, q1).add_(r2);
            oErr += e2.sum().item<double>();
            oRef += r2.sum().item<double>();
        }
        HeadError& e = r.heads[size_t(layer * H + h)];
        e.layer = layer;
        e.head = int(h);
        e.scoreRelErr = ref > 0 ? std::sqrt(sq / ref) : 0;
        e.scoreMaxAbs = mx;
        e.klMean = klSum / double(T);
        e.klMax = klMax;
        e.tvMean = tvSum / double(T);
        e.outRelErr = oRef > 0 ? std::sqrt(oErr / oRef) : 0;
        layerSq += sq;
    }
    TokenErrors& t = r.tokens[size_t(layer)];
    const at::Tensor share = layerSq > 0 ? colSq / layerSq : at::zeros_like(colSq);
    const at::Tensor q = (rowErr / rowRef.clamp_min(std::numeric_limits<double>::min())).sqrt();
    t.keyShare.assign(share.data_ptr<double>(), share.data_ptr<double>() + T);
    t.queryOutErr.assign(q.data_ptr<double>(), q.data_ptr<double>() + T);
}

Matrix2D scoreErrorMap(const LayerQkv& x, const ScoresFn& scoresHat, int head) {
    const int64_t T = x.T();
    if (head < 0 || head >= x.H()) fail(ErrorKind::BadInput, "no query head " + std::to_string(head));
    const at::Tensor s = x.q.select(1, head).mm(x.k.select(1, head / (x.H() / x.Hkv())).t()) * x.scale;
    const at::Tensor d = (scoresHat(head, 0, T) - s)
                             .abs()
                             .masked_fill(visibleBlock(0, T, x.window).logical_not(), std::nan(""))
                             .to(at::kFloat)
                             .contiguous();
    Matrix2D m;
    m.rows = T;
    m.cols = T;
    m.data.assign(d.data_ptr<float>(), d.data_ptr<float>() + d.numel());
    return m;
}

LayerQkv fromQkvTensors(const QkvTensors& x) {
    const int64_t T = x.T, H = x.nHeads, Hkv = x.nKvHeads, d = x.headDim;
    if (T <= 0 || H <= 0 || Hkv <= 0 || d <= 0 || H % Hkv != 0)
        fail(ErrorKind::BadInput, "QkvTensors: bad shape (T, heads, KV heads, head dim)");
    if (int64_t(x.q.size()) != T * H * d || int64_t(x.k.size()) != T * Hkv * d || int64_t(x.v.size()) != T * Hkv * d)
        fail(ErrorKind::BadInput, "QkvTensors: q, k, v sizes do not match the shape");
    auto t = [](const std::vector<float>& v, int64_t a, int64_t b, int64_t c) {
        return at::from_blob(const_cast<float*>(v.data()), {a, b, c}, at::kFloat).clone();
    };
    LayerQkv l;
    l.q = t(x.q, T, H, d);
    l.k = t(x.k, T, Hkv, d);
    l.v = t(x.v, T, Hkv, d);
    l.scale = x.scale > 0 ? x.scale : 1.0 / std::sqrt(double(d));
    l.window = x.window;
    return l;
}

std::vector<float> tokenRelErr(const at::Tensor& a, const at::Tensor& ahat) {
    const int64_t T = a.size(0);
    const at::Tensor num = (ahat - a).to(at::kDouble).pow(2).reshape({T, -1}).sum(1);
    const at::Tensor den = a.to(at::kDouble).pow(2).reshape({T, -1}).sum(1).clamp_min(std::numeric_limits<double>::min());
    const at::Tensor r = (num / den).sqrt().to(at::kFloat).contiguous();
    return std::vector<float>(r.data_ptr<float>(), r.data_ptr<float>() + T);
}

}  // namespace kv_detail

namespace kd = kv_detail;

namespace {

void initResult(AttnQuantResult& r, const kd::LayerQkv& x, int nLayers, std::string method) {
    r.method = std::move(method);
    r.nLayers = nLayers;
    r.nHeads = x.H();
    r.T = x.T();
    r.heads.assign(size_t(nLayers * x.H()), {});
    r.tokens.assign(size_t(nLayers), {});
}

kd::ScoresFn kvScores(const kd::LayerQkv& x, const kd::KvOut& o) {
    const int64_t g = x.H() / x.Hkv();
    return [&x, &o, g](int h, int64_t q0, int64_t q1) {
        return x.q.select(1, h).slice(0, q0, q1).mm(o.k.select(1, h / g).slice(0, 0, q1).t()) * x.scale;
    };
}

void kvLayer(const kd::LayerQkv& x, const KvQuantParams& p, int layer, AttnQuantResult& r) {
    const kd::KvOut o = kd::quantizeKv(x, p);
    const int64_t g = x.H() / x.Hkv();
    const kd::ScoresFn scores = kvScores(x, o);
    auto output = [&](int h, int64_t, int64_t q1, const at::Tensor& lhat) {
        return at::softmax(lhat, -1).mm(o.v.select(1, h / g).slice(0, 0, q1));
    };
    kd::layerErrors(x, scores, output, layer, r);
    r.tokens[size_t(layer)].keyRelErr = kd::tokenRelErr(x.k, o.k);
    r.tokens[size_t(layer)].valueRelErr = kd::tokenRelErr(x.v, o.v);
    r.bitsK += o.bitsK / r.nLayers;
    r.bitsV += o.bitsV / r.nLayers;
    if (r.highPrecision.empty()) r.highPrecision.assign(o.highPrecision.size(), 0);
    for (size_t t = 0; t < o.highPrecision.size(); ++t) r.highPrecision[t] |= o.highPrecision[t];
}

}  // namespace

namespace kv_detail {

// One layer of a trace as float32 CPU tensors.
LayerQkv traceLayer(const Trace& trace, int layer) {
    const auto* ti = dynamic_cast<const core::TraceImpl*>(&trace);
    if (!ti) fail(ErrorKind::Internal, "quantization analyses need a trace from Model::run");
    const core::LayerCapture& c = ti->layer(layer);
    if (!c.v.defined()) fail(ErrorKind::BadInput, "the trace has no values (TracePolicy::keepValues is off)");
    const core::QkView qk = ti->qk(layer);
    LayerQkv x;
    x.q = c.q.to(at::kCPU).to(at::kFloat);
    x.k = c.k.to(at::kCPU).to(at::kFloat);
    x.v = c.v.to(at::kCPU).to(at::kFloat);
    x.scale = qk.scale;
    x.window = qk.window;
    return x;
}

AttnQuantResult overTraceLayers(const Trace& trace, const JobControl& job, const std::string& what,
                                const LayerInit& init, const LayerStep& perLayer) {
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        AttnQuantResult r;
        for (int l = 0; l < trace.nLayers(); ++l) {
            if (job.stopRequested()) fail(ErrorKind::Cancelled, what + " cancelled");
            const LayerQkv x = traceLayer(trace, l);
            if (l == 0) init(r, x, trace.nLayers());
            perLayer(x, l, r);
            job.report(double(l + 1) / double(trace.nLayers()));
        }
        return r;
    });
}

}  // namespace kv_detail

KvQuantized fakeQuantizeKv(const QkvTensors& x, const KvQuantParams& p) {
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const kd::KvOut o = kd::quantizeKv(kd::fromQkvTensors(x), p);
        KvQuantized out;
        const at::Tensor k = o.k.contiguous(), v = o.v.contiguous();
        out.k.assign(k.data_ptr<float>(), k.data_ptr<float>() + k.numel());
        out.v.assign(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
        out.bitsK = o.bitsK;
        out.bitsV = o.bitsV;
        out.highPrecision = o.highPrecision;
        return out;
    });
}

AttnQuantResult analyseKvQuant(const QkvTensors& x, const KvQuantParams& p) {
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const kd::LayerQkv l = kd::fromQkvTensors(x);
        AttnQuantResult r;
        initResult(r, l, 1, kvMethodName(p.method));
        kvLayer(l, p, 0, r);
        return r;
    });
}

AttnQuantResult analyseKvQuant(const Trace& trace, const KvQuantParams& p, const JobControl& job) {
    return kd::overTraceLayers(
        trace, job, "KV analysis",
        [&](AttnQuantResult& r, const kd::LayerQkv& x, int n) { initResult(r, x, n, kvMethodName(p.method)); },
        [&](const kd::LayerQkv& x, int l, AttnQuantResult& r) { kvLayer(x, p, l, r); });
}

Matrix2D kvScoreErrorMap(const Trace& trace, int layer, int head, const KvQuantParams& p) {
    if (layer < 0 || layer >= trace.nLayers()) fail(ErrorKind::BadInput, "no layer " + std::to_string(layer));
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const kd::LayerQkv x = kd::traceLayer(trace, layer);
        const kd::KvOut o = kd::quantizeKv(x, p);
        return kd::scoreErrorMap(x, kvScores(x, o), head);
    });
}

}  // namespace attnscope
