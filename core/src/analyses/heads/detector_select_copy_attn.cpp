// select_copy_attn: "Listening to the Wise Few" (reference §E.3): A[last, p_c], the attention the
// answer position pays to the token ending option c's line (role "select-and-copy").
#include <algorithm>
#include <limits>

#include "analyses/heads/head_context.h"
#include "analyses/heads/head_detector.h"
#include "attnscope/trace.h"

namespace attnscope::heads {
namespace {

DetectorResult selectCopyAttn(LayerInputs& in) {
    const ChoiceOptions& o = in.ctx.options();
    if (o.keys.empty()) return notApplicable(in, o.note);
    DetectorResult out{{}, o.note};
    for (int h = 0; h < in.nHeads; ++h) {
        const Matrix2D row = in.trace.attentionTile(in.layer, h, o.query, o.query + 1, 0, o.query + 1);
        float best = 0;
        for (size_t c = 0; c < o.keys.size(); ++c) best = std::max(best, row.data[size_t(o.keys[c])]);
        out.heads.push_back(o.gold >= 0 ? row.data[size_t(o.keys[size_t(o.gold)])] : best);
    }
    return out;
}

}  // namespace

const DetectorEntry& selectCopyAttnDetector() {
    static const DetectorEntry e{
        {"select_copy_attn", "Select-and-copy attention score", "A[last, p_c]",
         "For a multiple-choice prompt: the attention the answer position pays to the token ending the answer's "
         "option line (or, without an answer, the most attended option). Select-and-copy heads put their attention "
         "there (Tulchinskii et al. 2024, Listening to the Wise Few, arXiv 2410.02343).",
         "select-and-copy", 0.3},
        selectCopyAttn};
    return e;
}

}  // namespace attnscope::heads
