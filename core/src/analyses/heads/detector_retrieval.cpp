// retrieval: the DuoAttention-style proxy of reference §E.4: the relative error of each head's output
// when its keys are cut to a streaming mask (the first s0 tokens + the last w), over the last rows.
#include <cmath>

#include "analyses/heads/head_context.h"
#include "analyses/heads/head_detector.h"
#include "attnscope/error.h"
#include "attnscope/trace.h"
#include "runtime/decoder.h"

namespace attnscope::heads {
namespace {

DetectorResult retrieval(LayerInputs& in) {
    const int64_t T = in.trace.length(), s0 = in.params.streamSinks, w = in.params.streamWindow;
    const int64_t tail = std::max<int64_t>(1, int64_t(std::ceil(in.params.retrievalTail * double(T))));
    std::vector<int64_t> rows;  // the tail's rows whose streaming mask drops a key (the others add 0)
    for (int64_t i = T - tail; i < T; ++i)
        if (i - w + 1 > s0) rows.push_back(i);
    DetectorResult out;
    out.note = "retrieval: output error of sinks " + std::to_string(s0) + " + window " + std::to_string(w) +
               " over the last " + std::to_string(tail) + " rows" +
               (rows.empty() ? " (the prompt fits the window: nothing is dropped, r = 0)" : "") +
               (T < 4096 ? "; the proxy is meant for prompts of 4K tokens or more" : "");
    if (rows.empty()) {
        out.heads.assign(size_t(in.nHeads), 0.f);
        return out;
    }
    const core::LayerCapture& c = layerCapture(in.trace, in.layer, "retrieval");
    if (!c.v.defined()) fail(ErrorKind::NotFound, "retrieval needs the trace's values");
    for (int h = 0; h < in.nHeads; ++h) {
        const at::Tensor v = c.v.select(1, kvHeadOf(in.trace, h)).to(at::kCPU, at::kDouble);  // [T, d]
        double sum = 0;
        forAttentionTiles(
            in.trace, in.layer, h, rows,
            [&](int64_t r0, int64_t r1, const float* tile) {
                const at::Tensor a = at::from_blob(const_cast<float*>(tile), {r1 - r0, r1}, at::kFloat).to(at::kDouble);
                const at::Tensor i = at::arange(r0, r1, at::kLong).unsqueeze(1),
                                 j = at::arange(r1, at::kLong).unsqueeze(0);
                const at::Tensor kept = a * ((j < s0) | (j > i - w)).to(at::kDouble);
                const at::Tensor vs = v.slice(0, 0, r1);
                // The masked softmax is the full one renormalised over the kept keys.
                const at::Tensor full = a.mm(vs), stream = kept.mm(vs) / kept.sum(1, true).clamp_min(1e-300);
                const at::Tensor err = (full - stream).norm(2, 1) / full.norm(2, 1).clamp_min(1e-300);
                sum += err.sum().item<double>();
            },
            in.job);
        out.heads.push_back(float(sum / double(tail)));
    }
    return out;
}

}  // namespace

const DetectorEntry& retrievalDetector() {
    static const DetectorEntry e{
        {"retrieval", "Retrieval score (streaming error)", "mean rel. output error",
         "How much the head's output changes when it keeps only the attention sinks and a recent window (a "
         "StreamingLLM mask), averaged over the last quarter of the prompt: retrieval heads need distant tokens, "
         "streaming heads do not (a proxy for DuoAttention's learned gates, arXiv 2410.10819). Meant for long "
         "prompts; the KV lab can give retrieval heads the larger budgets.",
         "retrieval", 0.05, true},
        retrieval};
    return e;
}

}  // namespace attnscope::heads
