// A^3 end to end: a rank profile's cuts written into a copy of the model's weights (same
// shapes, no extra GEMMs: W_q or the q/k rows for QK, W_o for OV, W_down for MLP), then the
// reduced model against the full one on the held-out positions and a greedy continuation.
#include "analyses/a3/a3_components.h"
#include "analyses/a3/a3_apply.h"
#include "model/model_access.h"
#include "runtime/decoder.h"

namespace attnscope {

using namespace a3;

namespace {

// Dimensions a set of d x d maps depends on: the numerical rank of their stack.
int numericalRank(const at::Tensor& stacked) {
    const at::Tensor s = at::linalg_svdvals(stacked);
    const double top = s.numel() ? s.max().item<double>() : 0.0;
    return int((s > std::max(top, 1e-300) * 1e-9).sum().item<int64_t>());
}

at::Tensor toDecoder(const at::Tensor& t, const core::Decoder& dec) { return t.to(dec.device(), dec.dtype()).contiguous(); }

// QK at rank r: rows masked (frequency pairs: both sides, RoPE exact) or W_q,h ← C_hᵀ W_q,h.
// Returns the key dimensions the scores depend on (max over groups).
int applyQk(const QkLab& qk, const core::ModelConfig& c, core::LayerWeights& w, int r, const core::Decoder& dec) {
    const int d = c.headDim, per = c.nHeads / c.nKvHeads;
    const std::vector<at::Tensor> cuts = qk.cuts(r, false);
    at::Tensor wq = f64(w.wq).view({c.nHeads, d, c.dModel}).clone(), wk = f64(w.wk).view({c.nKvHeads, d, c.dModel}).clone();
    at::Tensor bq = w.bq.defined() ? f64(w.bq).view({c.nHeads, d}).clone() : at::Tensor();
    at::Tensor bk = w.bk.defined() ? f64(w.bk).view({c.nKvHeads, d}).clone() : at::Tensor();
    int keyDims = 0;
    for (int g = 0; g < c.nKvHeads; ++g) {
        std::vector<at::Tensor> group(cuts.begin() + g * per, cuts.begin() + (g + 1) * per);
        keyDims = std::max(keyDims, numericalRank(at::cat(group, 0)));
        if (qk.ropeMode() == A3Rope::FrequencyPairs) {  // one 0/1 mask for the group: cut both sides
            const at::Tensor mask = group.front().diagonal().unsqueeze(1);
            wk[g].mul_(mask);
            if (bk.defined()) bk[g].mul_(mask.squeeze(1));
            for (int i = 0; i < per; ++i) {
                wq[g * per + i].mul_(mask);
                if (bq.defined()) bq[g * per + i].mul_(mask.squeeze(1));
            }
        } else {
            for (int i = 0; i < per; ++i) {
                const int h = g * per + i;
                wq[h] = group[size_t(i)].t().mm(wq[h]);
                if (bq.defined()) bq[h] = group[size_t(i)].t().mv(bq[h]);
            }
        }
    }
    w.wq = toDecoder(wq.view({c.nHeads * d, c.dModel}), dec);
    w.wk = toDecoder(wk.view({c.nKvHeads * d, c.dModel}), dec);
    if (bq.defined()) w.bq = toDecoder(bq.view({c.nHeads * d}), dec);
    if (bk.defined()) w.bk = toDecoder(bk.view({c.nKvHeads * d}), dec);
    return keyDims;
}

// OV at rank r: W_o,h ← W_o,h P_hᵀ. Returns the value dimensions the outputs depend on.
int applyOv(const OvLab& ov, const core::ModelConfig& c, core::LayerWeights& w, int r, const core::Decoder& dec) {
    const int d = c.headDim, per = c.nHeads / c.nKvHeads;
    const std::vector<at::Tensor> cuts = ov.headCuts(r, false);
    at::Tensor wo = f64(w.wo).clone();  // [D, H*d]
    int valueDims = 0;
    for (int g = 0; g < c.nKvHeads; ++g) {
        std::vector<at::Tensor> group(cuts.begin() + g * per, cuts.begin() + (g + 1) * per);
        valueDims = std::max(valueDims, numericalRank(at::cat(group, 1)));
        for (int i = 0; i < per; ++i) {
            const int h = g * per + i;
            wo.slice(1, h * d, (h + 1) * d).copy_(wo.slice(1, h * d, (h + 1) * d).mm(group[size_t(i)].t()));
        }
    }
    w.wo = toDecoder(wo, dec);
    return valueDims;
}

}  // namespace

std::unique_ptr<Model> a3ReducedModel(const Model& model, const A3Stats& stats, const Trace& heldOut, int64_t row0,
                                      const A3Profile& profile, const A3Params& params, A3EndToEnd& report,
                                      const JobControl& job) {
    const auto* ti = dynamic_cast<const core::TraceImpl*>(&heldOut);
    if (!ti) fail(ErrorKind::BadInput, "A^3 needs a held-out trace from Model::run");
    const core::Decoder& dec = ModelAccess::impl(model).decoder;
    const core::ModelConfig& c = dec.config();
    if (int(profile.ranks.size()) != c.nLayers) fail(ErrorKind::BadInput, "A^3: the profile needs one entry per layer");
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const LabDevice onDevice(dec.device());
        core::Weights weights = dec.weights();  // tensors shared; the replaced ones are new
        report.cacheDims.assign(size_t(c.nLayers), {c.headDim, c.headDim});
        report.paramsSaved = 0;
        const bool qkNorm = c.qkNorm;
        for (int l = 0; l < c.nLayers; ++l) {
            job.check();
            const auto& [rqk, rov, rmlp] = profile.ranks[size_t(l)];
            if (rqk < 1 || rov < 1 || rmlp < 1 || rqk > c.headDim || rov > c.headDim || rmlp > c.dFF)
                fail(ErrorKind::BadInput, "A^3: layer " + std::to_string(l) + "'s ranks are out of range");
            core::LayerWeights& w = weights.layers[size_t(l)];
            const LayerInputs in{c, dec.weights().layers[size_t(l)], stats, l, ti->layer(l), row0, params};
            if (rqk < c.headDim) {
                if (qkNorm) {
                    report.note = "QK left whole: the model normalises q and k per head (QK-norm), which a weight "
                                  "edit cannot cut exactly";
                } else {
                    const QkLab qk(in);
                    report.cacheDims[size_t(l)][0] = applyQk(qk, c, w, rqk, dec);
                    report.paramsSaved += int64_t(c.nHeads + c.nKvHeads) * (c.headDim - rqk) * c.dModel;
                }
            }
            if (rov < c.headDim) {
                const OvLab ov(in);
                report.cacheDims[size_t(l)][1] = applyOv(ov, c, w, rov, dec);
                report.paramsSaved += int64_t(c.nKvHeads + c.nHeads) * (c.headDim - rov) * c.dModel;
            }
            if (rmlp < c.dFF) {
                const MlpLab mlp(in);
                w.wDown = toDecoder(mlp.down(rmlp, false), dec);
                report.paramsSaved += int64_t(c.dFF - rmlp) * c.dModel * (w.wGate.defined() ? 3 : 2);
            }
            job.report(double(l + 1) / c.nLayers);
        }
        return ModelAccess::withDecoder(model, core::Decoder(c, std::move(weights), dec.device(), dec.dtype()));
    });
}

}  // namespace attnscope
