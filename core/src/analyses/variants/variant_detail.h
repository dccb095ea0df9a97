// Internal interface of the attention variants: one registry entry per file (the list is
// ATTNSCOPE_VARIANTS), and the pieces they share: the visible set C(i) (causal, and the
// model's own sliding window), masked softmax and φ-feature linear attention.
#pragma once
#include <ATen/ATen.h>

#include <string>

#include "attnscope/analyses/variants.h"

namespace attnscope::variants {

// One head's inputs as float64 tensors on the CPU.
struct HeadTensors {
    int64_t T = 0;
    at::Tensor q, k, v;   // [T, d] post-RoPE, [T, d], [T, dv]
    at::Tensor qPre, kPre;  // [T, d] pre-RoPE (= q, k without RoPE)
    double scale = 0;
    int window = 0;
    at::Tensor visible;   // [T, T] bool: j ≤ i (and i − j < window)
};

struct VariantTensors {
    at::Tensor o;          // [T, dv]
    at::Tensor w;          // [T, T]
    at::Tensor curve;      // [T] or undefined
    std::string curveName, note;
};

// Reads its parameters by name (defaults filled in by the caller).
class Params {
public:
    Params(const VariantInfo& info, const VariantParams& values) : m_info(info), m_values(values) {}
    double operator[](const std::string& name) const { return variantParam(m_info, m_values, name); }
    int integer(const std::string& name) const { return int(std::llround((*this)[name])); }
    const std::string& choice(const std::string& name) const;

private:
    const VariantInfo& m_info;
    const VariantParams& m_values;
};

using VariantFn = VariantTensors (*)(const HeadTensors& in, const Params& p);
struct VariantEntry {
    VariantInfo info;
    VariantFn compute = nullptr;
};

// The registry: one line per variant file (variant_<name>.cpp defines <name>Variant()).
#define ATTNSCOPE_VARIANTS(X)                                                                   \
    X(softmax) X(eluLinear) X(reluLinear) X(nalaformer) X(mala) X(hedgehog) X(window) X(dilated) \
        X(power) X(topk) X(sea) X(routing) X(hyper) X(sinkhorn) X(selective) X(affineScaled) X(binary)
#define ATTNSCOPE_VARIANT_DECLARE(name) const VariantEntry& name##Variant();
ATTNSCOPE_VARIANTS(ATTNSCOPE_VARIANT_DECLARE)
#undef ATTNSCOPE_VARIANT_DECLARE

// ---- shared pieces ------------------------------------------------------------------------

// The rope_mode choice of kernel variants (reference §0): post = q, k as the model scored
// them; pre = before RoPE.
inline const std::vector<std::string>& ropeChoices() {
    static const std::vector<std::string> c = {"post", "pre"};
    return c;
}
VariantParamSpec ropeParam(int defaultIndex);
// q, k for the rope_mode parameter.
std::pair<at::Tensor, at::Tensor> qkFor(const HeadTensors& in, const Params& p);

at::Tensor scores(const HeadTensors& in);  // s·q kᵀ [T, T] (post-RoPE)
// Softmax of each row of `s` over keep ∧ visible (∪ the diagonal: no row is empty, reference
// §B); exactly 0 elsewhere.
at::Tensor maskedSoftmax(const at::Tensor& s, const HeadTensors& in, const at::Tensor& keep = {}, bool diagonal = true);
// keep[i, j]: j among the k largest `rank` values of row i over the visible keys (ties: lower j).
at::Tensor topKeys(const at::Tensor& rank, const HeadTensors& in, int64_t k);
VariantTensors fromMap(const at::Tensor& w, const HeadTensors& in);  // o = W v

// Causal φ-feature linear attention (A.1): the output by prefix sums of φ(k) vᵀ and φ(k)
// (windowed: differences of them), the map by the quadratic form; curve = the denominator.
// Rows whose denominator is 0 give o = 0 and an empty map row.
VariantTensors linearAttention(const at::Tensor& phiQ, const at::Tensor& phiK, const HeadTensors& in, double eps);
inline at::Tensor elu1(const at::Tensor& x) { return at::elu(x) + 1; }

// A head's tensors (any dtype, device) as float64 on the CPU, with the visible set built;
// undefined qPre / kPre: the model has no RoPE (q, k are used).
HeadTensors headTensors(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& qPre,
                        const at::Tensor& kPre, double scale, int window);
// The registered variant `name` on one head (Error(BadInput) for an unknown name).
VariantTensors runVariant(const std::string& name, const VariantParams& params, const HeadTensors& in);

// Median of a 1-D tensor (the lower middle value).
double medianOf(const at::Tensor& x);

}  // namespace attnscope::variants
