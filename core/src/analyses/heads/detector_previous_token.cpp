// previous_token: mean over rows i >= 1 of A[i, i-1] (reference §E.1's protocol; role "previous-token").
#include "analyses/heads/head_detector.h"

namespace attnscope::heads {

const DetectorEntry& previousTokenDetector() {
    static const DetectorEntry e{
        {"previous_token", "Previous-token score", "mean A[i, i\u22121]",
         "Mean over queries i \u2265 1 of A[i, i\u22121], the attention paid to the token just before. Previous-token "
         "heads feed induction heads (Olsson et al. 2022).",
         "previous-token", 0.4},
        [](LayerInputs& in) { return fromStats(in, [](const HeadStats& s) { return meanFrom(s.previous, 1); }); }};
    return e;
}

}  // namespace attnscope::heads
