// activationPatching (attnscope/analyses/interventions.h, reference §F.4): clean activations
// patched into the corrupted run one at a time, scored by the normalised logit difference.
#include <cmath>
#include <limits>

#include "analyses/interventions/interventions_detail.h"
#include "attnscope/analyses/interventions.h"
#include "attnscope/error.h"
#include "model/model_impl.h"
#include "trace/trace_impl.h"

namespace attnscope {

PatchResult activationPatching(Model& model, const PatchParams& p, const JobControl& job) {
    return guardTorch([&] {
        using namespace interventions;
        const core::ModelConfig& c = configOf(model);
        if (p.clean.size() != p.corrupt.size())
            fail(ErrorKind::BadInput, "patch: the clean prompt has " + std::to_string(p.clean.size()) +
                                          " tokens and the corrupted one " + std::to_string(p.corrupt.size()) +
                                          "; they must tokenize to the same length");
        if (p.what != "resid" && p.what != "mlp" && p.what != "head")
            fail(ErrorKind::BadInput, "patch: --what must be resid, mlp or head");
        for (int32_t t : {p.answer, p.wrong})
            if (t < 0 || t >= c.vocabSize)
                fail(ErrorKind::BadInput, "patch: the answer tokens must be token ids of the vocabulary");
        TracePolicy policy;
        policy.keepPreRope = policy.keepQk = policy.keepLogits = false;
        policy.keepResidual = p.what == "resid";
        policy.keepMlp = p.what == "mlp";
        policy.keepValues = p.what == "head";
        const Run clean = hookedRun(model, p.clean, {}, &policy, job.part(0, 0.05));
        const Run corrupt = hookedRun(model, p.corrupt, {}, nullptr, job.part(0.05, 0.1));
        const int64_t T = int64_t(p.clean.size());
        auto ld = [&](const at::Tensor& logits) {
            return double(logits[T - 1][p.answer].item<float>()) - double(logits[T - 1][p.wrong].item<float>());
        };
        PatchResult r;
        r.what = p.what;
        r.nLayers = c.nLayers;
        r.nHeads = c.nHeads;
        r.T = T;
        r.ldClean = ld(clean.logits);
        r.ldCorrupt = ld(corrupt.logits);
        r.undefined = std::abs(r.ldClean - r.ldCorrupt) < 1e-3;
        const auto* ti = dynamic_cast<const core::TraceImpl*>(clean.trace.get());
        const int64_t cols = p.what == "head" ? c.nHeads : T;
        const int64_t total = int64_t(c.nLayers) * cols;
        for (int l = 0; l < c.nLayers; ++l)
            for (int64_t col = 0; col < cols; ++col) {
                job.check();
                const core::LayerCapture& cap = ti->layer(l);
                Hooks h;
                auto row = [l, col](const at::Tensor& from) {
                    return [l, col, from](int layer, const at::Tensor& y) {
                        if (layer != l) return at::Tensor();
                        at::Tensor out = y.clone();
                        out[col].copy_(from[col]);
                        return out;
                    };
                };
                if (p.what == "resid") h.resid = row(cap.residOut);
                else if (p.what == "mlp") h.mlp = row(cap.mlpOut);
                else {
                    const at::Tensor from = cap.headOut;
                    h.attention = [l, col, from](int layer, const core::LayerCapture&, const at::Tensor& z) {
                        if (layer != l) return at::Tensor();
                        at::Tensor out = z.clone();
                        out.select(1, col).copy_(from.select(1, col));  // every position
                        return out;
                    };
                }
                const int64_t k = int64_t(l) * cols + col;
                const Run patched = hookedRun(
                    model, p.corrupt, h, nullptr,
                    job.part(0.1 + 0.9 * double(k) / double(total), 0.1 + 0.9 * double(k + 1) / double(total)));
                const double d = ld(patched.logits) - r.ldCorrupt;
                r.delta.push_back(float(d));
                r.normalized.push_back(r.undefined ? std::numeric_limits<float>::quiet_NaN()
                                                   : float(d / (r.ldClean - r.ldCorrupt)));
            }
        r.note = std::string("denoising: clean ") +
                 (p.what == "head"  ? "head outputs (every position)"
                  : p.what == "mlp" ? "MLP outputs"
                                    : "residual streams") +
                 " patched into the corrupted run" +
                 (r.undefined ? "; LD_clean = LD_corrupt, the normalised map is undefined" : "");
        job.report(1);
        return r;
    });
}

}  // namespace attnscope
