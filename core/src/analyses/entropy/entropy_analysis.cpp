// The registry entry of attention entropy by layer.
#include "analyses/analysis_list.h"
#include "attnscope/analyses/entropy.h"
#include "attnscope/inspector.h"

namespace attnscope {

AnalysisSpec entropyAnalysis() {
    return {"entropy", "Entropy by Layer",
            "each layer's attention entropy at every query position, mean over heads (nats; ln(i+1) = uniform)", {},
            /*verb=*/true,
            [](Inspector& inspector, const Options&, const Session&, const JobControl& job) {
                return encodeEntropyProfile(computeEntropyProfile(inspector.trace(viewTracePolicy(), job), job));
            },
            validateBy(decodeEntropyProfile)};
}

}  // namespace attnscope
