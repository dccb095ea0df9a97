// The attention-variants lab over a traced prompt (Inspector::variants, variantHead).
#pragma once
#include <utility>
#include <vector>

#include "attnscope/analyses/variants.h"
#include "attnscope/job.h"

namespace attnscope {

class Model;
class Trace;

// The prompt's maps are T x T per head: the lab refuses longer prompts with a clear error.
inline constexpr int64_t kVariantMaxTokens = 4096;

// Effective and stable rank of a head's map (one SVD of T x T: the lab's costliest step).
std::pair<double, double> variantMapRanks(const VariantHeadOutput& output, int64_t T);
// compareVariant with softmax's ranks given (computed once per head) and the variant's own
// ranks only when asked (a live parameter edit leaves them 0).
VariantHeadMetrics compareVariantWith(const VariantHeadOutput& softmax, const VariantHeadOutput& variant, int64_t T,
                                      int dv, std::pair<double, double> softmaxRanks, bool variantRanks);

// `trace` of `ids` keeps q, k, v (and pre-RoPE q, k for models with RoPE).
VariantsResult computeVariants(Model& model, const Trace& trace, const std::vector<int32_t>& ids,
                               const VariantsRequest& request, const JobControl& job);
VariantHeadPair computeVariantHead(const Model& model, const Trace& trace, int layer, int head,
                                   const VariantChoice& variant);

}  // namespace attnscope
