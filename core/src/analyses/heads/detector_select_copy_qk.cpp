// select_copy_qk: "Listening to the Wise Few" (reference §E.3): the QK score q_last · k_{p_c} of each
// option's end-of-line token, as a softmax share over the options.
#include <limits>

#include "analyses/heads/head_context.h"
#include "analyses/heads/head_detector.h"
#include "arch/config/model_config.h"
#include "runtime/decoder.h"

namespace attnscope::heads {
namespace {

DetectorResult selectCopyQk(LayerInputs& in) {
    const ChoiceOptions& o = in.ctx.options();
    if (o.keys.empty()) return notApplicable(in, o.note);
    DetectorResult out{{}, o.note};
    const core::LayerCapture& c = layerCapture(in.trace, in.layer, "select_copy_qk");
    const at::Tensor keys = at::tensor(o.keys, at::kLong).to(c.k.device());
    for (int h = 0; h < in.nHeads; ++h) {
        const at::Tensor q = c.q[o.query][h].to(at::kCPU, at::kDouble);  // [d]
        const at::Tensor k =
            c.k.index_select(0, keys).select(1, kvHeadOf(in.trace, h)).to(at::kCPU, at::kDouble);  // [C, d]
        const at::Tensor share = at::softmax(k.mv(q) * in.ctx.config().logitScale(), 0);
        const int64_t pick = o.gold >= 0 ? o.gold : share.argmax().item<int64_t>();
        out.heads.push_back(float(share[pick].item<double>()));
    }
    return out;
}

}  // namespace

const DetectorEntry& selectCopyQkDetector() {
    static const DetectorEntry e{
        {"select_copy_qk", "Select-and-copy QK score", "softmax over options of q\u00b7k",
         "For a multiple-choice prompt (lines \"A. \u2026\", \"B. \u2026\", then the answer cue): the answer "
         "position's query against the key of the token ending each option's line, as a softmax share over the "
         "options; of the answer given, else of the head's own pick (Tulchinskii et al. 2024, Listening to the Wise "
         "Few, arXiv 2410.02343).",
         "", 0},
        selectCopyQk};
    return e;
}

}  // namespace attnscope::heads
