// Internal interface of the attention variants: one registry entry per file (the list is
// ATTNSCOPE_VARIANTS), and the pieces they share: the visible set C(i) (causal, and the
// model's own sliding window), masked softmax and φ-feature linear attention.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "analyses/variants/variants_lab.h"
#include "attnscope/analyses/variants.h"

namespace attnscope::variants {

// What one variant computes once per head and reuses for every block of query rows (k-means
// centroids, Sinkhorn's scalings, Hedgehog's fitted map, ...). Fresh for every variant run.
struct VariantCache {
    std::map<std::string, std::vector<at::Tensor>> tensors;
    std::string note;
};

// One head's inputs as float64 tensors on the CPU, and the block of query rows [r0, r1) a
// variant computes now: a long prompt's map is never held whole (rows x T at a time).
struct HeadTensors {
    int64_t T = 0;
    int64_t r0 = 0, r1 = 0;  // the block's query rows
    at::Tensor q, k, v;      // [T, d] post-RoPE, [T, d], [T, dv]: every row
    at::Tensor qPre, kPre;   // [T, d] pre-RoPE (= q, k without RoPE)
    double scale = 0;
    int window = 0;
    at::Tensor visible;  // [r1 − r0, T] bool: key j visible from query i = r0 + row (j ≤ i, i − j < window)
    std::shared_ptr<VariantCache> cache;

    int64_t rows() const { return r1 - r0; }
    at::Tensor rowsOf(const at::Tensor& x) const { return x.slice(0, r0, r1); }  // a [T, ·] tensor's block rows
    HeadTensors block(int64_t a, int64_t b) const;                               // query rows [a, b), same cache
    at::Tensor queryIndex() const;                                               // [rows, 1] long: i
    at::Tensor keyIndex() const;                                                 // [1, T] long: j
    // The cache's tensors under `key`, made once per variant run.
    const std::vector<at::Tensor>& cached(const std::string& key,
                                          const std::function<std::vector<at::Tensor>()>& make) const;
};

// A block's result: rows r0..r1 of the map and the output.
struct VariantTensors {
    at::Tensor o;      // [rows, dv]
    at::Tensor w;      // [rows, T]
    at::Tensor curve;  // [rows], [T] when curveOverKeys (summed over blocks), or undefined
    bool curveOverKeys = false;
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
#define ATTNSCOPE_VARIANTS(X)                                                                                          \
    X(softmax)                                                                                                         \
    X(eluLinear) X(reluLinear) X(nalaformer) X(mala) X(hedgehog) X(agent) X(rala) X(cca) X(window) X(dilated) X(power) \
        X(topk) X(sea) X(routing) X(hyper) X(psa) X(sinkhorn) X(selective) X(affineScaled) X(binary)
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

at::Tensor scores(const HeadTensors& in);  // s·q kᵀ [rows, T] (post-RoPE)
// Softmax of each row of `s` over keep ∧ visible (∪ the diagonal: no row is empty, reference
// §B); exactly 0 elsewhere.
at::Tensor maskedSoftmax(const at::Tensor& s, const HeadTensors& in, const at::Tensor& keep = {}, bool diagonal = true);
// keep[i, j]: j among the k largest `rank` values of row i over the visible keys (ties: lower j).
at::Tensor topKeys(const at::Tensor& rank, const HeadTensors& in, int64_t k);
VariantTensors fromMap(const at::Tensor& w, const HeadTensors& in);  // o = W v
// r with its curve (per row; per key when overKeys) and the curve's name. r is taken by
// reference, so `curve` may be computed from r in the same call.
VariantTensors withCurve(VariantTensors&& r, const at::Tensor& curve, const char* name, bool overKeys = false);

// Causal φ-feature linear attention (A.1) from φ(q), φ(k) of every row [T, m]: the block's
// output by prefix sums of φ(k) vᵀ and φ(k) (O(T·m·dv); windowed: the map's rows), the map by
// the quadratic form; curve = the denominator. Rows whose denominator is 0 give o = 0 and an
// empty map row.
VariantTensors linearAttention(const at::Tensor& phiQ, const at::Tensor& phiK, const HeadTensors& in, double eps);
inline at::Tensor elu1(const at::Tensor& x) { return at::elu(x) + 1; }

// A head's tensors (any dtype, device) as float64 on the CPU, every query row in one block;
// undefined qPre / kPre: the model has no RoPE (q, k are used).
HeadTensors headTensors(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& qPre,
                        const at::Tensor& kPre, double scale, int window);
// The registered variant `name` on the block `in` (Error(BadInput) for an unknown name); a new
// cache when `in` has none.
VariantTensors runVariant(const std::string& name, const VariantParams& params, const HeadTensors& in);

// Query rows per block for a head of T tokens: the largest block whose [rows, T] maps stay
// under variantBlockElements() (every row at once for short prompts).
// (variantBlockElements(): variants_lab.h)
int64_t variantBlockRows(int64_t T);
// The variant over the query rows [from, to) of `head` (to = −1: every row), block by block (one
// cache for the run: what a variant needs from every row it still takes from every row):
// visit gets each block and its result. `check` runs before each block (cancellation).
void forEachVariantBlock(const std::string& name, const VariantParams& params, const HeadTensors& head,
                         const std::function<void(const HeadTensors&, VariantTensors&)>& visit,
                         const std::function<void()>& check = {}, int64_t from = 0, int64_t to = -1);
// Every row's output [T, dv] (the maps block by block, never whole).
at::Tensor variantOutput(const std::string& name, const VariantParams& params, const HeadTensors& head);

// Row entropy of p = |W| / Σ|W| (nats); 0 for an empty row.
at::Tensor rowEntropy(const at::Tensor& w);
// Effective and stable rank of a map (an SVD, float32).
std::pair<double, double> mapRanks(const at::Tensor& w);

// The metrics against softmax (VariantHeadMetrics) accumulated over blocks of query rows; the
// ranks are left 0 (they need the whole map).
class MetricRows {
public:
    // P, W [rows, T]: softmax's and the variant's map rows; O, O2 [rows, dv]: their outputs.
    // Returns the rows' entropies {softmax's, the variant's} [rows] (rowEntropy).
    std::pair<at::Tensor, at::Tensor> add(const at::Tensor& P, const at::Tensor& W, const at::Tensor& O,
                                          const at::Tensor& O2);
    VariantHeadMetrics finish() const;

private:
    double m_diff2 = 0, m_o2 = 0, m_v2 = 0, m_dot = 0;
    std::vector<at::Tensor> m_rowErr;
    double m_kl = 0, m_tv = 0, m_entropy = 0, m_softmaxEntropy = 0, m_kept = 0, m_neg = 0, m_sink = 0,
           m_softmaxSink = 0;
    int64_t m_rows = 0, m_live = 0;
};

// Median of a 1-D tensor (the lower middle value).
double medianOf(const at::Tensor& x);

}  // namespace attnscope::variants
