// elu_linear and relu_linear: φ-feature linear attention (Katharopoulos et al.), reference A.1.
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

std::vector<VariantParamSpec> linearParams() {
    return {ropeParam(0),
            {"scale_q", 0, 0, 1, {}, "1: scale q by the model's s before φ (changes elu+1, not ReLU) [RECON]"},
            {"eps", 1e-6, 0, 1, {}, "added to the denominator of the output (1e-6)"}};
}

template <bool kRelu>
VariantTensors linear(const HeadTensors& in, const Params& p) {
    auto [q, k] = qkFor(in, p);
    if (p.integer("scale_q")) q = q * in.scale;
    const at::Tensor fq = kRelu ? at::relu(q) : elu1(q), fk = kRelu ? at::relu(k) : elu1(k);
    return linearAttention(fq, fk, in, p["eps"]);
}

}  // namespace

const VariantEntry& eluLinearVariant() {
    static const VariantEntry e{
        {"elu_linear", "Linear attention, φ = elu+1", VariantFamily::Linear,
         "Replaces exp(q·k) by φ(q)·φ(k) with φ(x) = elu(x)+1, so attention is a running sum of φ(k) vᵀ: O(T·d²) "
         "time and a fixed-size state. Without the exponential the weights are much flatter than softmax's: "
         "expect a large entropy gap and weak sinks.",
         "reference A.1; Katharopoulos et al., arXiv 2006.16236", true, linearParams()},
        linear<false>};
    return e;
}

const VariantEntry& reluLinearVariant() {
    static const VariantEntry e{
        {"relu_linear", "Linear attention, φ = ReLU", VariantFamily::Linear,
         "Linear attention with φ(x) = max(x, 0). A query whose features are all ≤ 0 sees nothing (its output is "
         "0: counted as a zero row); otherwise like elu+1 but sparser.",
         "reference A.1", true, linearParams()},
        linear<true>};
    return e;
}

}  // namespace attnscope::variants
