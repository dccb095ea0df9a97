// A^3's cuts applied to a copy of the model (a3_apply.cpp). Internal to core.
#pragma once
#include <memory>

#include "attnscope/analyses/a3.h"
#include "attnscope/model.h"

namespace attnscope {

// A copy of `model` with every layer cut to `profile`'s ranks (A^3's closed forms from `stats`,
// scored on nothing: `heldOut` and `row0` only feed the components' constructors). Fills
// report.cacheDims, paramsSaved and note. The copy shares the untouched tensors.
std::unique_ptr<Model> a3ReducedModel(const Model& model, const A3Stats& stats, const Trace& heldOut, int64_t row0,
                                      const A3Profile& profile, const A3Params& params, A3EndToEnd& report,
                                      const JobControl& job = {});

}  // namespace attnscope
