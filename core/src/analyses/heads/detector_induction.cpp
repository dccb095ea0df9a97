// induction: TransformerLens' induction pattern score on the prompt itself (reference §E.1):
// attention to the token after an earlier occurrence of the query's token.
#include "analyses/heads/head_detector.h"

namespace attnscope::heads {

const DetectorEntry& inductionDetector() {
    static const DetectorEntry e{
        {"induction", "Induction score (prompt)", "\u03a3(A\u2299D)/\u03a3A, D: after earlier copies",
         "Share of attention on the token after an earlier occurrence of the query's token, D[i, j] = [tok_{j\u22121} "
         "= tok_i] (TransformerLens head_detector, \"mul\"), over the prompt's rows where the text repeats. Olsson "
         "et al. 2022.",
         "induction", 0.3},
        [](LayerInputs& in) {
            return DetectorResult{in.patterns().induction, in.patterns().inductionNote};
        }};
    return e;
}

}  // namespace attnscope::heads
