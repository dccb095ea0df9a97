// softmax: the model's own attention, recomputed from the trace (every comparison's reference).
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {

const VariantEntry& softmaxVariant() {
    static const VariantEntry e{
        {"softmax",
         "Softmax (the model's own)",
         VariantFamily::Reference,
         "P = softmax(s·q kᵀ) over the causal (and the model's sliding-window) keys: what the model ran. Every "
         "other variant is compared with it.",
         "reference §0",
         true,
         {}},
        [](const HeadTensors& in, const Params&) { return fromMap(maskedSoftmax(scores(in), in), in); }};
    return e;
}

}  // namespace attnscope::variants
