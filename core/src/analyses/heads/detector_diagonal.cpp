// diagonal: mean over every row of A[i, i], the attention a token pays to itself (role "self").
#include "analyses/heads/head_detector.h"

namespace attnscope::heads {

const DetectorEntry& diagonalDetector() {
    static const DetectorEntry e{
        {"diagonal", "Diagonal (self) score", "mean A[i, i]",
         "Mean over queries of A[i, i], the attention a token pays to itself.", "self", 0.4},
        [](LayerInputs& in) { return fromStats(in, [](const HeadStats& s) { return meanFrom(s.diagonal, 0); }); }};
    return e;
}

}  // namespace attnscope::heads
