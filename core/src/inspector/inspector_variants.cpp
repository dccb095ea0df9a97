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
        return computeVariantHead(m->requireModel(), trace, layer, head, variant, tile, job.part(0.1, 1));
    });
}

}  // namespace attnscope
