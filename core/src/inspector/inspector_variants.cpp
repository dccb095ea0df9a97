// The Inspector's attention-variants lab (analyses/variants/).
#include "analyses/variants/variants_lab.h"
#include "inspector/inspector_impl.h"

namespace attnscope {
namespace {

// The variants replay q, k, v of a layer, before RoPE for the kernels that ask for it.
TracePolicy variantsPolicy() {
    TracePolicy p = viewTracePolicy();
    p.keepValues = p.keepPreRope = true;
    return p;
}

}  // namespace

VariantsResult Inspector::variants(const VariantsRequest& request, const JobControl& job) {
    return guarded([&] {
        const Trace& trace = m->traceFor(variantsPolicy(), job.part(0, 0.1));
        VariantsResult r = computeVariants(m->requireModel(), trace, m->requirePrompt(), request, job.part(0.1, 1));
        for (VariantRun& v : r.variants) v.paramText = variantParamText(variantInfo(v.name), v.params);
        return r;
    });
}

VariantHeadPair Inspector::variantHead(int layer, int head, const VariantChoice& variant, const VariantTile& tile,
                                       const JobControl& job) {
    return guarded([&] {
        const Trace& trace = m->traceFor(variantsPolicy(), job.part(0, 0.1));
        const std::string key = std::to_string(layer) + " " + std::to_string(head) + " " + variant.name + " " +
                                variantParamText(variantInfo(variant.name), variant.params);
        const VariantHeadPair* known = m->variantPairKey == key ? m->variantPair.get() : nullptr;
        VariantHeadPair pair =
            computeVariantHead(m->requireModel(), trace, layer, head, variant, tile, job.part(0.1, 1), known);
        // Kept for another tile of it: everything but the maps (the next tile brings its own).
        auto kept = std::make_shared<VariantHeadPair>();
        kept->layer = pair.layer, kept->head = pair.head, kept->T = pair.T, kept->dv = pair.dv;
        kept->name = pair.name, kept->params = pair.params, kept->tile = pair.tile, kept->metrics = pair.metrics;
        for (auto [to, from] : {std::pair{&kept->softmax, &pair.softmax}, {&kept->variant, &pair.variant}}) {
            to->o = from->o, to->rowEntropy = from->rowEntropy, to->rowCurve = from->rowCurve;
            to->curveName = from->curveName, to->note = from->note;
        }
        m->variantPairKey = key;
        m->variantPair = std::move(kept);
        return pair;
    });
}

}  // namespace attnscope
