// Calibration statistics of every linear layer's input (reference §2.1, [SRC] QERA
// statistic_profiler/scale.py): R = Σ xᵀx / N with the outer products taken in float32 and
// accumulated in float64, and LQER's max over forward passes of mean |x|. Optional RSQ
// AttnCon token weighting (§4.2, [SRC] rsq input_weighting_module.py + GPTQ.add_batch).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "analyses/quant/quant_model_detail.h"
#include "attnscope/error.h"
#include "model/model_access.h"
#include "runtime/attention.h"
#include "runtime/decoder.h"

namespace attnscope {

using namespace core;

const char* linearInputName(LinearInput i) {
    switch (i) {
    case LinearInput::AttnIn: return "attn_in";
    case LinearInput::HeadOut: return "head_out";
    case LinearInput::MlpIn: return "mlp_in";
    case LinearInput::DownIn: return "down_in";
    }
    return "?";
}

std::vector<std::vector<int32_t>> splitWindows(const std::vector<int32_t>& ids, int window, int32_t bos) {
    if (window < 2) fail(ErrorKind::BadInput, "window must be at least 2 tokens");
    std::vector<std::vector<int32_t>> out;
    size_t i = 0;
    while (i < ids.size()) {
        std::vector<int32_t> w;
        if (!out.empty() && bos >= 0) w.push_back(bos);
        const size_t take = std::min(ids.size() - i, size_t(window) - w.size());
        w.insert(w.end(), ids.begin() + std::ptrdiff_t(i), ids.begin() + std::ptrdiff_t(i + take));
        i += take;
        out.push_back(std::move(w));
    }
    return out;
}

namespace quant_detail {

// The down projection's input, as Decoder::mlp computes it.
at::Tensor downInput(const ModelConfig& c, const LayerWeights& L, const at::Tensor& mlpIn) {
    auto linear = [](const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
        return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
    };
    if (c.mlp == MlpKind::GatedSilu)
        return activate(linear(mlpIn, L.wGate, L.bGate), c.act) * linear(mlpIn, L.wUp, L.bUp);
    return activate(linear(mlpIn, L.wUp, L.bUp), c.act);
}

}  // namespace quant_detail

namespace {

// RSQ's AttnCon weights of one window: r_t = Σ_heads Σ_i A[h, i, t], min-max normalised to
// [lo, hi] and clamped, then scaled to mean 1 (w·T/Σw) as GPTQ.add_batch does.
at::Tensor rsqWeights(const at::Tensor& q, const at::Tensor& k, const ModelConfig& c, double lo, double hi) {
    AttnGeometry geo;
    geo.scale = c.logitScale();
    geo.window = c.slidingWindow;
    const at::Tensor probs = attentionProbs(q, k, geo);  // [H, T, T]
    at::Tensor r = probs.sum(0).sum(0).to(at::kDouble);  // [T]
    const double mn = r.min().item<double>(), mx = r.max().item<double>();
    r = mx > mn ? (r - mn) / (mx - mn) : at::zeros_like(r);
    r = (r * (hi - lo) + lo).clamp(lo, hi);
    return r * double(r.size(0)) / r.sum();
}

struct Accumulator {
    at::Tensor r;        // [dim, dim] float64 CPU: Σ w_t x_tᵀx_t
    at::Tensor meanAbs;  // [dim] float64 CPU
    double n = 0;

    void add(const at::Tensor& x0, const at::Tensor& w) {
        const at::Tensor x = x0.to(at::kFloat);  // [T, dim]
        const at::Tensor xw = w.defined() ? x * w.to(x.device()).to(at::kFloat).sqrt().unsqueeze(1) : x;
        const at::Tensor delta = xw.t().mm(xw).to(at::kCPU).to(at::kDouble);
        const at::Tensor ma = x.abs().mean(0).to(at::kCPU).to(at::kDouble);
        if (!r.defined()) {
            r = delta;
            meanAbs = ma;
        } else {
            r += delta;
            meanAbs = at::maximum(meanAbs, ma);
        }
        n += double(x.size(0));
    }
};

std::vector<double> toVector(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

Calibration calibrate(Model& model, const std::vector<std::vector<int32_t>>& windows, const CalibParams& params,
                      const JobControl& job) {
    const Model::Impl& impl = ModelAccess::impl(model);
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const Decoder& dec = impl.decoder;
        const ModelConfig& c = dec.config();
        if (windows.empty()) fail(ErrorKind::BadInput, "calibration needs at least one window of tokens");
        std::vector<Accumulator> acc(size_t(c.nLayers) * 4);
        TracePolicy policy;
        policy.keepPreRope = false;
        policy.keepLogits = false;
        int64_t tokens = 0;
        for (size_t wi = 0; wi < windows.size(); ++wi) {
            const std::vector<int32_t>& ids = windows[wi];
            if (ids.empty()) continue;
            if (job.stopRequested()) fail(ErrorKind::Cancelled, "calibration cancelled");
            ForwardRequest req;
            req.ids = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).to(dec.device());
            req.trace = &policy;
            req.allLogits = false;
            req.job.stop = job.stop;
            const ForwardResult res = dec.forward(req);
            const int64_t T = int64_t(ids.size());
            tokens += T;
            for (int l = 0; l < c.nLayers; ++l) {
                const LayerCapture& cap = res.layers[size_t(l)];
                const LayerWeights& L = dec.weights().layers[size_t(l)];
                const at::Tensor w =
                    params.rsqWeighting ? rsqWeights(cap.q, cap.k, c, params.rsqMin, params.rsqMax) : at::Tensor();
                Accumulator* a = &acc[size_t(l) * 4];
                a[int(LinearInput::AttnIn)].add(cap.attnIn, w);
                a[int(LinearInput::HeadOut)].add(cap.headOut.reshape({T, -1}), w);
                a[int(LinearInput::MlpIn)].add(cap.mlpIn, w);
                a[int(LinearInput::DownIn)].add(quant_detail::downInput(c, L, cap.mlpIn), w);
            }
            job.report(double(wi + 1) / double(windows.size()));
        }
        if (tokens == 0) fail(ErrorKind::BadInput, "calibration needs at least one token");
        Calibration out;
        out.nLayers = c.nLayers;
        out.tokens = tokens;
        for (Accumulator& a : acc) {
            InputStats s;
            s.dim = a.r.size(0);
            s.tokens = a.n;
            s.r = toVector(a.r / a.n);
            s.meanAbs = toVector(a.meanAbs);
            out.inputs.push_back(std::move(s));
        }
        return out;
    });
}

InputStats syntheticInputStats(int64_t dim, int64_t tokens, uint64_t seed, const std::string& device) {
    if (dim <= 0 || tokens <= 0) fail(ErrorKind::BadInput, "syntheticInputStats: dim and tokens must be positive");
    if (device == "cuda" && !at::hasCUDA()) fail(ErrorKind::BadInput, "CUDA is not available");
    if (device != "cpu" && device != "cuda") fail(ErrorKind::BadInput, "unknown device '" + device + "' (cpu, cuda)");
    at::NoGradGuard noGrad;
    const at::Device dev = device == "cuda" ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    at::Generator gen = at::detail::createCPUGenerator(seed);
    const at::Tensor scale = at::exp(at::randn({dim}, gen, at::kFloat) * 0.5);            // log-normal channels
    const at::Tensor x = (at::randn({tokens, dim}, gen, at::kFloat) * scale).to(dev, at::kDouble);  // [N, dim]
    InputStats s;
    s.dim = dim;
    s.tokens = double(tokens);
    s.r = toVector(x.t().mm(x) / double(tokens));
    s.meanAbs = toVector(x.abs().mean(0));
    return s;
}

}  // namespace attnscope
