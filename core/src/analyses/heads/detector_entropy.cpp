// entropy: mean over query rows of the row entropy (nats). Not a role: the grid's first view.
#include "analyses/heads/head_detector.h"

namespace attnscope::heads {

const DetectorEntry& entropyDetector() {
    static const DetectorEntry e{
        {"entropy", "Entropy", "mean row entropy (nats)",
         "Mean over queries of the entropy of the attention row, in nats. Low: the head looks at few tokens; high "
         "(up to ln T): it spreads its attention.",
         "", 0},
        [](LayerInputs& in) { return fromStats(in, [](const HeadStats& s) { return meanFrom(s.entropy, 0); }); }};
    return e;
}

}  // namespace attnscope::heads
