// duplicate_token: TransformerLens' duplicate-token pattern score on the prompt (reference §E.1).
#include "analyses/heads/head_detector.h"

namespace attnscope::heads {

const DetectorEntry& duplicateTokenDetector() {
    static const DetectorEntry e{
        {"duplicate_token", "Duplicate-token score", "\u03a3(A\u2299D)/\u03a3A, D: earlier copies",
         "Share of attention on earlier occurrences of the query's own token, D[i, j] = [tok_j = tok_i, j < i] "
         "(TransformerLens head_detector, \"mul\"), over the prompt's rows that have an earlier copy.",
         "duplicate-token", 0.3},
        [](LayerInputs& in) {
            return DetectorResult{in.patterns().duplicate, in.patterns().duplicateNote};
        }};
    return e;
}

}  // namespace attnscope::heads
