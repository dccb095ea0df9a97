// The Inspector's state (inspector.cpp: model, prompt, traces and views; inspector_labs.cpp:
// the KV, quantization and Weibull labs).
#pragma once
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "attnscope/inspector.h"
#include "model/model_impl.h"  // guardTorch

namespace attnscope {
namespace heads {
class DetectorContext;
}

struct Inspector::Impl {
    std::unique_ptr<Model> model;
    bool hasPrompt = false;
    std::vector<int32_t> prompt;
    std::unique_ptr<Trace> trace;  // of `prompt`, keeping `policy`
    TracePolicy policy;
    // Caches of the prompt, dropped with it.
    std::map<std::pair<int64_t, std::vector<int64_t>>, std::shared_ptr<const SinkInputs>> sinkInputs;
    std::shared_ptr<const Calibration> calibration;
    // A^3 moments by what they were taken from: (held-out row, calibration windows).
    std::map<std::pair<int64_t, std::vector<std::vector<int32_t>>>, std::shared_ptr<const A3Stats>> a3Stats;
    // The last A^3 sweep and the request it answered (a3 in inspector_labs.cpp).
    std::string a3SweepKey;
    std::shared_ptr<const A3Result> a3Sweep;
    // The last variant map pair and what it was of (layer, head, variant, parameters): another
    // tile of it computes only the tile's rows (variantHead in inspector_variants.cpp).
    std::string variantPairKey;
    std::shared_ptr<const VariantHeadPair> variantPair;
    // What the head-role detectors of the prompt share (its trace, model and parameters).
    std::shared_ptr<heads::DetectorContext> headContext;

    // A^3 applied to the model: its original decoder, and the profile's name.
    std::unique_ptr<core::Decoder> a3Original;
    std::string a3Applied;

    Model& requireModel() const;
    void dropTraces();  // the prompt's ids stay
    const Trace& requireTrace() const;  // the trace that exists
    const std::vector<int32_t>& requirePrompt() const;
    // The prompt's trace keeping at least `needs`: made now when absent, or re-made once with
    // the union of what the current one keeps and `needs`.
    const Trace& traceFor(const TracePolicy& needs, const JobControl& job);
    void dropPrompt();
    // The head-role detectors' shared state for the prompt's trace and `params` (made anew when
    // either changed).
    heads::DetectorContext& headDetectors(const HeadDetectorParams& params, const JobControl& job);
};

// Every public Inspector call runs through this: only attnscope::Error leaves the core.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
    return guardTorch(std::forward<F>(f));
}

}  // namespace attnscope
