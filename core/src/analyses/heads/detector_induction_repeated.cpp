// induction_repeated: the induction score on [BOS] + R + R (reference §E.1's protocol):
// mean over the second copy's rows i of A[i, i − n + 1].
#include <limits>

#include "analyses/heads/head_context.h"
#include "analyses/heads/head_detector.h"
#include "attnscope/trace.h"

namespace attnscope::heads {
namespace {

DetectorResult inductionRepeated(LayerInputs& in) {
    const RepeatedSequence& r = in.ctx.repeated(in.job);
    if (!r.trace) return notApplicable(in, r.note);
    DetectorResult out{{}, r.note};
    std::vector<int64_t> rows;  // the second copy but its last token
    for (int64_t i = r.offset + r.n; i <= r.offset + 2 * r.n - 2; ++i) rows.push_back(i);
    for (int h = 0; h < in.nHeads; ++h) {
        double sum = 0;
        forAttentionRows(
            *r.trace, in.layer, h, rows, [&](int64_t i, const float* a) { sum += a[i - r.n + 1]; }, in.job);
        out.heads.push_back(float(sum / double(rows.size())));
    }
    return out;
}

}  // namespace

const DetectorEntry& inductionRepeatedDetector() {
    static const DetectorEntry e{
        {"induction_repeated", "Induction score (repeated random tokens)", "mean A[i, i\u2212n+1]",
         "On a sequence of n random tokens repeated twice (after BOS), the mean attention each token of the second "
         "copy pays to the token after its first occurrence: the standard induction-head test (Olsson et al. 2022; "
         "TransformerLens). Near 1: an induction head; chance is about 1/i.",
         "induction", 0.3},
        inductionRepeated};
    return e;
}

}  // namespace attnscope::heads
