// first_token: the causal mean attention to token 0, the attention sink (role "sink").
#include "analyses/heads/head_detector.h"

namespace attnscope::heads {

const DetectorEntry& firstTokenDetector() {
    static const DetectorEntry e{
        {"first_token", "Mass on first token", "mean attention to token 0",
         "Causal mean attention to token 0 (its column sum divided by the rows that see it). High values mark heads "
         "that park attention on the first token, the attention sink (Xiao et al. 2023; Gu et al. 2024).",
         "sink", 0.5},
        [](LayerInputs& in) {
            return fromStats(in, [](const HeadStats& s) { return s.colMeanCausal.empty() ? 0.f : s.colMeanCausal[0]; });
        }};
    return e;
}

}  // namespace attnscope::heads
