// The attention-variants lab over a traced prompt (Inspector::variants, variantHead).
#pragma once
#include <cstdint>
#include <vector>

#include "attnscope/analyses/variants.h"
#include "attnscope/job.h"

namespace attnscope {

class Model;
class Trace;

// The most map entries (rows x T) one block of query rows may hold: 4M by default (32 MB of
// float64); tests make it small to check that blocks change nothing.
int64_t& variantBlockElements();

// `trace` of `ids` keeps q, k, v (and pre-RoPE q, k for models with RoPE).
VariantsResult computeVariants(Model& model, const Trace& trace, const std::vector<int32_t>& ids,
                               const VariantsRequest& request, const JobControl& job);
// Maps of `tile` only, computed block by block of query rows (never the whole T x T map). With
// `known`, this very head and variant computed before: only the tile's rows are computed, the
// rest (outputs, entropies, metrics) is known's.
VariantHeadPair computeVariantHead(const Model& model, const Trace& trace, int layer, int head,
                                   const VariantChoice& variant, const VariantTile& tile, const JobControl& job = {},
                                   const VariantHeadPair* known = nullptr);

}  // namespace attnscope
