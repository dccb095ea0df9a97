// routing: Routing Transformer's shared clusters of queries and keys, reference B.4
// (deterministic spherical k-means [RECON]).
#include <cmath>

#include "analyses/kv/kv_policy.h"  // splitMix01
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

// Spherical k-means of the unit rows of x [N, d]: k-means++ seeding from `seed`, then `iters`
// rounds of argmax-cosine assignment and normalised means. Returns the centroids [C, d].
at::Tensor sphericalKMeans(const at::Tensor& x, int64_t C, int iters, uint64_t seed) {
    const int64_t N = x.size(0);
    std::vector<int64_t> picked = {int64_t(kv::splitMix01(seed) * double(N)) % N};
    at::Tensor best = x.mv(x[picked[0]]);  // max cosine to the chosen centroids
    for (int64_t c = 1; c < C; ++c) {
        const at::Tensor d2 = (1 - best).clamp_min(0).pow(2);
        const at::Tensor cum = d2.cumsum(0);
        const double total = cum[N - 1].item<double>();
        int64_t next = 0;
        if (total > 0) {
            const double u = kv::splitMix01(seed + uint64_t(c) * 0x9E3779B97F4A7C15ULL) * total;
            next = std::min<int64_t>(N - 1, at::searchsorted(cum, at::scalar_tensor(u, at::kDouble)).item<int64_t>());
        } else {
            next = c % N;
        }
        picked.push_back(next);
        best = at::maximum(best, x.mv(x[next]));
    }
    at::Tensor centroids = x.index_select(0, at::tensor(picked, at::kLong));
    for (int it = 0; it < iters; ++it) {
        const at::Tensor assign = x.mm(centroids.t()).argmax(1);
        at::Tensor sums = at::zeros_like(centroids).index_add_(0, assign, x);
        const at::Tensor norms = sums.norm(2, 1, true);
        centroids = at::where(norms > 1e-12, sums / norms.clamp_min(1e-12), centroids);
    }
    return centroids;
}

VariantTensors routing(const HeadTensors& in, const Params& p) {
    const int64_t C =
        p.integer("clusters") > 0 ? p.integer("clusters") : std::max<int64_t>(1, std::llround(std::sqrt(double(in.T))));
    auto unit = [](const at::Tensor& x) { return x / x.norm(2, 1, true).clamp_min(1e-12); };
    const at::Tensor q = unit(in.q), k = unit(in.k);
    const at::Tensor centroids = in.cached("centroids", [&] {
        return std::vector<at::Tensor>{
            sphericalKMeans(at::cat({q, k}, 0), C, p.integer("iters"), uint64_t(p.integer("seed")))};
    })[0];  // from every query and key, once per head
    const at::Tensor cq = in.rowsOf(q).mm(centroids.t()).argmax(1), ck = k.mm(centroids.t()).argmax(1);
    const at::Tensor i = in.queryIndex(), j = in.keyIndex();
    const at::Tensor keep = (cq.unsqueeze(1) == ck.unsqueeze(0)) | ((i - j) < p.integer("local_window"));
    VariantTensors r = fromMap(maskedSoftmax(scores(in), in, keep), in);
    r.note = std::to_string(C) + " clusters";
    return withCurve(std::move(r), cq.to(at::kDouble), "query's cluster");
}

}  // namespace

const VariantEntry& routingVariant() {
    static const VariantEntry e{
        {"routing",
         "Routing (k-means clusters)",
         VariantFamily::Sparse,
         "Clusters queries and keys together by direction (spherical k-means, √T clusters) and lets each query "
         "attend only to the keys of its own cluster, causally. Content-based sparsity: it finds the large "
         "scores only where they come from aligned directions.",
         "reference B.4; Routing Transformer, arXiv 2003.05997 [RECON deterministic k-means]",
         true,
         {{"clusters", 0, 0, 1e6, {}, "C (0 = round(√T))"},
          {"iters", 20, 0, 1000, {}, "k-means iterations (20)"},
          {"seed", 0, 0, 1e9, {}, "k-means++ seed (0)"},
          {"local_window", 0, 0, 1e9, {}, "also keep the n most recent keys (the paper's local heads; 0)"}}},
        routing};
    return e;
}

}  // namespace attnscope::variants
