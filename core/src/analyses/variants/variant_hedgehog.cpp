// hedgehog: a softmax-mimicking feature map fitted to the head's own attention, reference A.2
// (training-free fit [RECON]).
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>

#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

struct FeatureMap {
    at::Tensor w, b;  // [m, d], [m]
    at::Tensor operator()(const at::Tensor& x) const {
        const at::Tensor z = x.mm(w.t()) + b;
        return at::cat({at::softmax(z, 1), at::softmax(-z, 1)}, 1);
    }
};

// Row-averaged causal cross-entropy −(1/n) Σ_i Σ_j P_ij log Ŵ_ij over rows [r0, r1).
at::Tensor crossEntropy(const at::Tensor& P, const at::Tensor& fq, const at::Tensor& fk, const at::Tensor& visible,
                        int64_t r0, int64_t r1) {
    const at::Tensor e = fq.slice(0, r0, r1).mm(fk.t()).masked_fill(visible.slice(0, r0, r1).logical_not(), 0.0);
    const at::Tensor w = e / e.sum(1, true).clamp_min(1e-30);
    return -(P.slice(0, r0, r1) * (w + 1e-12).log()).sum() / double(std::max<int64_t>(1, r1 - r0));
}

// The two feature maps fitted on the head's first fit_max_tokens queries ({w_q, b_q, w_k, b_k},
// float64); the fit's report goes to the cache's note.
std::vector<at::Tensor> fit(const HeadTensors& in, const Params& p) {
    const auto [q0, k0] = qkFor(in, p);
    const int64_t d = q0.size(1), m = p.integer("m") > 0 ? p.integer("m") : d;
    const int64_t fitT = std::min<int64_t>(in.T, p.integer("fit_max_tokens"));
    const int64_t fitRows = std::max<int64_t>(1, std::llround(double(fitT) * (1 - p["holdout_frac"])));
    const HeadTensors head = in.block(0, fitT);  // the fit's rows: [fitT, T] maps
    const at::Tensor P = maskedSoftmax(scores(head), head).to(at::kFloat);
    const at::Tensor q = q0.to(at::kFloat), k = k0.to(at::kFloat), vis = head.visible;
    at::Tensor init = at::zeros({m, d}, at::kFloat);
    init.slice(0, 0, std::min(m, d)).copy_(at::eye(std::min(m, d), d, at::kFloat));
    if (m > d) {  // extra rows N(0, 0.02) from a fixed seed
        at::Generator gen = at::detail::createCPUGenerator(uint64_t(p.integer("seed")));
        init.slice(0, d, m).copy_(at::normal(0.0, 0.02, {m - d, d}, gen).to(at::kFloat));
    }
    std::vector<FeatureMap> maps = {{init.clone(), at::zeros({m}, at::kFloat)},
                                    {init.clone(), at::zeros({m}, at::kFloat)}};
    const at::Tensor Pfit = P.slice(0, 0, fitT).slice(1, 0, fitT), visFit = vis.slice(0, 0, fitT).slice(1, 0, fitT);
    const at::Tensor qFit = q.slice(0, 0, fitT), kFit = k.slice(0, 0, fitT);
    double before = 0, after = 0;
    {
        at::AutoGradMode grad(true);
        std::vector<at::Tensor> params, m1, m2;
        for (FeatureMap& f : maps)
            for (at::Tensor* t : {&f.w, &f.b}) {
                t->requires_grad_(true);
                params.push_back(*t);
                m1.push_back(at::zeros_like(*t));
                m2.push_back(at::zeros_like(*t));
            }
        const double lr = p["lr"], b1 = 0.9, b2 = 0.999;
        const int steps = p.integer("steps");
        for (int step = 0; step <= steps; ++step) {
            for (at::Tensor& t : params)
                if (t.grad().defined()) t.mutable_grad().zero_();
            const at::Tensor loss = crossEntropy(Pfit, maps[0](qFit), maps[1](kFit), visFit, 0, fitRows);
            if (step == 0) before = loss.item<double>();
            if (step == steps) {
                after = loss.item<double>();
                break;
            }
            loss.backward();
            at::NoGradGuard noGrad;
            for (size_t n = 0; n < params.size(); ++n) {  // Adam
                const at::Tensor g = params[n].grad();
                m1[n].mul_(b1).add_(g, 1 - b1);
                m2[n].mul_(b2).add_(g * g, 1 - b2);
                const double c1 = 1 - std::pow(b1, step + 1), c2 = 1 - std::pow(b2, step + 1);
                params[n].sub_(m1[n] / c1 / ((m2[n] / c2).sqrt() + 1e-8) * lr);
            }
        }
    }
    for (FeatureMap& f : maps) {
        f.w = f.w.detach().to(at::kDouble);
        f.b = f.b.detach().to(at::kDouble);
    }
    const double held =
        fitRows < fitT
            ? crossEntropy(P.to(at::kDouble), maps[0](q0), maps[1](k0), head.visible, fitRows, fitT).item<double>()
            : std::nan("");
    std::ostringstream note;
    note.precision(4);
    note << "fit cross-entropy " << before << " -> " << after << " nats/row on " << fitRows << " rows";
    if (fitRows < fitT) note << "; held-out " << held;
    in.cache->note = note.str();
    return {maps[0].w, maps[0].b, maps[1].w, maps[1].b};
}

VariantTensors hedgehog(const HeadTensors& in, const Params& p) {
    const std::vector<at::Tensor>& fitted = in.cached("feature_maps", [&] { return fit(in, p); });
    const FeatureMap fq{fitted[0], fitted[1]}, fk{fitted[2], fitted[3]};
    const auto [q0, k0] = qkFor(in, p);
    VariantTensors r = linearAttention(fq(q0), fk(k0), in, 1e-6);
    r.note = in.cache->note;
    return r;
}

}  // namespace

const VariantEntry& hedgehogVariant() {
    static const VariantEntry e{
        {"hedgehog",
         "Hedgehog (fitted feature map)",
         VariantFamily::Linear,
         "Linear attention whose feature map φ(x) = [softmax(Wx+b); softmax(−(Wx+b))] is trained to mimic the "
         "head's softmax (here: fitted by Adam on this head's own map, no training data). The spiky, monotone "
         "features are the paper's answer to linear attention's flat, high-entropy maps; the held-out "
         "cross-entropy tells whether the fit generalises along the sequence.",
         "reference A.2; Hedgehog, arXiv 2402.04347 [RECON fit procedure]",
         true,
         {ropeParam(0),
          {"m", 0, 0, 4096, {}, "feature rows m (0 = d); each map has 2m features"},
          {"steps", 300, 0, 100000, {}, "Adam steps (300)"},
          {"lr", 1e-2, 1e-6, 1, {}, "Adam learning rate (0.01)"},
          {"holdout_frac", 0.25, 0, 0.9, {}, "last share of the fitted rows held out of the fit (0.25)"},
          {"fit_max_tokens", 2048, 2, 1e6, {}, "fit on at most this many leading tokens (2048)"},
          {"seed", 0, 0, 1e9, {}, "seed of the extra rows when m > d"}}},
        hedgehog};
    return e;
}

}  // namespace attnscope::variants
