// induction: TransformerLens' induction pattern score on the prompt itself (reference §E.1):
// attention to the token after an earlier occurrence of the query's token.
#include "analyses/heads/head_context.h"
#include "analyses/heads/head_detector.h"

namespace attnscope::heads {
namespace {

DetectorResult induction(LayerInputs& in) {
    const std::vector<std::vector<int64_t>>& copies = in.ctx.earlierCopies();
    std::vector<std::vector<int64_t>> after(copies.size());  // D[i, j] = Dup[i, j − 1]: j = p + 1 <= i
    for (size_t i = 0; i < copies.size(); ++i)
        for (int64_t p : copies[i]) after[i].push_back(p + 1);
    return patternScore(in, after, "induction");
}

}  // namespace

const DetectorEntry& inductionDetector() {
    static const DetectorEntry e{
        {"induction", "Induction score (prompt)", "\u03a3(A\u2299D)/\u03a3A, D: after earlier copies",
         "Share of attention on the token after an earlier occurrence of the query's token, D[i, j] = [tok_{j\u22121} "
         "= tok_i] (TransformerLens head_detector, \"mul\"), over the prompt's rows where the text repeats. Olsson "
         "et al. 2022.",
         "induction", 0.3},
        induction};
    return e;
}

}  // namespace attnscope::heads
