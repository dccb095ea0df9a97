// The A^3 lab: every layer's QK, OV and MLP cut at every rank fraction, A^3 beside its
// baseline, scored on the calibration moments (the objective each closed form minimises) and
// on held-out rows of a trace (the component's real error). Float64 on the CPU.
#include "analyses/a3/a3_components.h"
#include "model/model_access.h"

namespace attnscope {

using namespace a3;

A3Result computeA3(const Model& model, const A3Stats& stats, const Trace& heldOut, int64_t row0,
                   const std::vector<double>& fractions, const A3Params& params, const JobControl& job) {
    const auto* ti = dynamic_cast<const core::TraceImpl*>(&heldOut);
    if (!ti) fail(ErrorKind::BadInput, "A^3 needs a held-out trace from Model::run");
    if (row0 < 0 || row0 >= heldOut.length()) fail(ErrorKind::BadInput, "A^3: no held-out rows");
    if (fractions.empty()) fail(ErrorKind::BadInput, "A^3 needs at least one rank fraction");
    for (double f : fractions)
        if (!(f > 0 && f <= 1)) fail(ErrorKind::BadInput, "A^3 rank fractions must be in (0, 1]");
    const core::Decoder& dec = ModelAccess::impl(model).decoder;
    const core::ModelConfig& c = dec.config();
    if (stats.nLayers != c.nLayers || stats.headDim != c.headDim || heldOut.nLayers() != c.nLayers)
        fail(ErrorKind::BadInput, "A^3: statistics or trace of another model");
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const LabDevice onDevice(dec.device());
        A3Result out;
        out.params = params;
        out.fractions = fractions;
        static_cast<ModelShape&>(out) = c;
        out.rope = c.rope.style != core::RopeStyle::None;
        out.rotaryDim = out.rope ? (c.rope.rotaryDim > 0 ? c.rope.rotaryDim : c.headDim) : 0;
        out.calibTokens = stats.tokens;
        out.heldOutRows = heldOut.length() - row0;
        for (int l = 0; l < c.nLayers; ++l) {
            job.check();
            const LayerInputs in{c, dec.weights().layers[size_t(l)], stats, l, ti->layer(l), row0, params};
            const QkLab qk(in);
            const OvLab ov(in);
            const MlpLab mlp(in);
            if (l == 0) out.qkMode = qk.modeText();
            A3Layer layer;
            for (double f : fractions) {
                layer.qk.push_back(qk.point(f));
                layer.ov.push_back(ov.point(f));
                layer.mlp.push_back(mlp.point(f));
            }
            out.layers.push_back(std::move(layer));
            job.report(double(l + 1) / c.nLayers);
        }
        return out;
    });
}

}  // namespace attnscope
