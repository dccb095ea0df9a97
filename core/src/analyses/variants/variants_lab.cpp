// The attention-variants lab: a layer's heads through the chosen variants, their metrics
// against the softmax the model ran, and the model re-run with a variant in place.
#include "analyses/variants/variants_lab.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "analyses/variants/variant_detail.h"
#include "attnscope/error.h"
#include "model/model_access.h"
#include "model/model_impl.h"

namespace attnscope {
namespace {

using core::Decoder;
using core::LayerCapture;

const core::ModelConfig& configOf(const Model& model) { return ModelAccess::impl(model).decoder.config(); }

void checkShape(const Model& model, const Trace& trace, int layer, int head) {
    const core::ModelConfig& c = configOf(model);
    if (layer < 0 || layer >= c.nLayers)
        fail(ErrorKind::BadInput, "variants: layer " + std::to_string(layer) + " is out of range (the model has " +
                                      std::to_string(c.nLayers) + ")");
    if (head < -1 || head >= c.nHeads)
        fail(ErrorKind::BadInput, "variants: head " + std::to_string(head) + " is out of range (the model has " +
                                      std::to_string(c.nHeads) + ")");
    if (trace.length() > kVariantMaxTokens)
        fail(ErrorKind::BadInput, "the variants lab compares T x T maps: prompts up to " +
                                      std::to_string(kVariantMaxTokens) + " tokens (this one has " +
                                      std::to_string(trace.length()) + ")");
}

std::vector<VariantChoice> choicesOf(const VariantsRequest& r) {
    if (!r.variants.empty()) {
        for (const VariantChoice& c : r.variants) variantInfo(c.name);  // unknown names: a clear error
        return r.variants;
    }
    std::vector<VariantChoice> all;
    for (const VariantInfo& info : variantInfos()) all.push_back({info.name, {}});
    return all;
}

VariantHeadMetrics meanOf(const std::vector<VariantHeadMetrics>& heads) {
    VariantHeadMetrics m;
    m.head = -1;
    m.keptMass = 0;
    if (heads.empty()) return m;
    const double n = double(heads.size());
    for (const VariantHeadMetrics& h : heads) {
        for (auto [sum, part] : {std::pair{&m.outputRelErr, h.outputRelErr},
                                 {&m.rowRelErrMean, h.rowRelErrMean},
                                 {&m.rowRelErrP95, h.rowRelErrP95},
                                 {&m.rowRelErrMax, h.rowRelErrMax},
                                 {&m.cosine, h.cosine},
                                 {&m.rowKlMean, h.rowKlMean},
                                 {&m.rowTvMean, h.rowTvMean},
                                 {&m.entropy, h.entropy},
                                 {&m.softmaxEntropy, h.softmaxEntropy},
                                 {&m.entropyGap, h.entropyGap},
                                 {&m.effectiveRank, h.effectiveRank},
                                 {&m.softmaxEffectiveRank, h.softmaxEffectiveRank},
                                 {&m.stableRank, h.stableRank},
                                 {&m.softmaxStableRank, h.softmaxStableRank},
                                 {&m.keptMass, h.keptMass},
                                 {&m.negMass, h.negMass},
                                 {&m.sinkMass, h.sinkMass},
                                 {&m.softmaxSinkMass, h.softmaxSinkMass}})
            *sum += part / n;
        m.zeroRows += h.zeroRows;
    }
    return m;
}

at::Tensor tensorOfOutput(const std::vector<double>& o, int64_t T, int dv) {
    return at::from_blob(const_cast<double*>(o.data()), {T, dv}, at::kDouble).clone();
}

// The layer's heads with the variant in place of the model's attention; `stored` [H] holds
// outputs already computed for exactly these inputs (undefined: compute).
at::Tensor substituted(const core::ModelConfig& c, const VariantChoice& v, const std::vector<int>& heads,
                       const LayerCapture& in, const at::Tensor& headOut, const std::vector<at::Tensor>& stored) {
    at::Tensor out = headOut.to(at::kDouble).clone();  // [T, H, d]
    const int per = c.nHeads / c.nKvHeads;
    const bool rope = c.rope.style != core::RopeStyle::None;
    for (int h : heads) {
        at::Tensor o;
        if (size_t(h) < stored.size() && stored[size_t(h)].defined() && stored[size_t(h)].size(0) == out.size(0)) {
            o = stored[size_t(h)];
        } else {
            const int g = h / per;
            const variants::HeadTensors t = variants::headTensors(
                in.q.select(1, h), in.k.select(1, g), in.v.select(1, g), rope ? in.qPre.select(1, h) : at::Tensor(),
                rope ? in.kPre.select(1, g) : at::Tensor(), c.logitScale(), c.slidingWindow);
            o = variants::runVariant(v.name, v.params, t).o;
        }
        out.select(1, h).copy_(o.to(out.device()));
    }
    return out;
}

using Override = std::function<at::Tensor(int, const LayerCapture&, const at::Tensor&)>;

// Next-token log-probabilities [T, V] (float64, CPU), or the last position's [1, V].
at::Tensor logProbs(const Decoder& dec, const std::vector<int32_t>& ids, const Override& hook, bool all,
                    const JobControl& job) {
    core::ForwardRequest req;
    req.ids = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).to(dec.device());
    req.allLogits = all;
    req.job.stop = job.stop;
    req.attentionOverride = hook;
    return at::log_softmax(dec.forward(req).logits.to(at::kCPU, at::kDouble), -1);
}

VariantEndToEnd endToEnd(Model& model, const std::vector<int32_t>& ids, const VariantsRequest& r,
                         const VariantChoice& v, const std::vector<int>& heads, const std::vector<at::Tensor>& stored,
                         const at::Tensor& original, const JobControl& job) {
    const Decoder& dec = ModelAccess::impl(model).decoder;
    const core::ModelConfig& c = dec.config();
    const int64_t T = int64_t(ids.size());
    auto hook = [&](bool reuse) -> Override {
        return [&, reuse](int l, const LayerCapture& in, const at::Tensor& headOut) {
            if (!r.allLayers && l != r.layer) return at::Tensor();
            const bool mine = reuse && l == r.layer;
            return substituted(c, v, heads, in, headOut, mine ? stored : std::vector<at::Tensor>{});
        };
    };
    VariantEndToEnd e;
    const at::Tensor la = original, lb = logProbs(dec, ids, hook(true), true, job.part(0, 0.5));
    const at::Tensor kl = (la.exp() * (la - lb)).sum(1);  // [T]
    e.kl.assign(kl.data_ptr<double>(), kl.data_ptr<double>() + T);
    e.klMean = kl.mean().item<double>();
    e.klMax = kl.max().item<double>();
    e.top1 = (la.argmax(1) == lb.argmax(1)).to(at::kDouble).mean().item<double>();
    e.heldOutFrom = std::clamp<int64_t>(int64_t(std::floor(double(T) * r.heldOutFrom)), 0, std::max<int64_t>(0, T - 2));
    if (T >= 2) {
        const at::Tensor next =
            at::tensor(std::vector<int64_t>(ids.begin() + e.heldOutFrom + 1, ids.end()), at::kLong).unsqueeze(1);
        const int64_t n = T - 1 - e.heldOutFrom;
        e.pplOriginal = std::exp(-la.slice(0, e.heldOutFrom, T - 1).gather(1, next).sum().item<double>() / double(n));
        e.ppl = std::exp(-lb.slice(0, e.heldOutFrom, T - 1).gather(1, next).sum().item<double>() / double(n));
    }
    if (r.continuation > 0) {
        e.continuationOriginal = model.generate(ids, r.continuation, false, job.part(0.5, 0.6)).tokens;
        std::vector<int32_t> seq = ids;
        const JobControl rest = job.part(0.6, 1);
        for (int n = 0; n < r.continuation && int64_t(seq.size()) < c.contextLength; ++n) {
            rest.check();
            const int32_t next = int32_t(logProbs(dec, seq, hook(false), false, rest).argmax(-1).item<int64_t>());
            seq.push_back(next);
            e.continuation.push_back(next);
            rest.report(double(n + 1) / r.continuation);
        }
    }
    return e;
}

}  // namespace

VariantsResult computeVariants(Model& model, const Trace& trace, const std::vector<int32_t>& ids,
                               const VariantsRequest& r, const JobControl& job) {
    checkShape(model, trace, r.layer, r.head);
    if (r.continuation < 0 || r.continuation > 1024)
        fail(ErrorKind::BadInput, "variants: the continuation must lie in [0, 1024]");
    if (!(r.heldOutFrom >= 0 && r.heldOutFrom < 1))
        fail(ErrorKind::BadInput, "variants: the held-out share must lie in [0, 1)");
    if (trace.length() != int64_t(ids.size())) fail(ErrorKind::Internal, "variants: the trace is of another prompt");
    const core::ModelConfig& c = configOf(model);
    const std::vector<VariantChoice> choices = choicesOf(r);
    std::vector<int> heads;
    for (int h = 0; h < c.nHeads; ++h)
        if (r.head < 0 || h == r.head) heads.push_back(h);
    VariantsResult out;
    out.layer = r.layer;
    out.head = r.head;
    out.allLayers = r.allLayers;
    out.tokens = trace.length();
    for (const VariantChoice& v : choices) {
        VariantRun run;
        run.name = v.name;
        run.params = v.params;
        out.variants.push_back(std::move(run));
    }
    // Outputs per variant and head, kept for the substituted run of this very layer.
    std::vector<std::vector<at::Tensor>> outputs(choices.size(), std::vector<at::Tensor>(size_t(c.nHeads)));
    const JobControl maps = job.part(0, r.substitute ? 0.5 : 1);
    for (size_t n = 0; n < heads.size(); ++n) {
        const VariantHeadInput in = variantHeadInput(model, trace, r.layer, heads[n]);
        const VariantHeadOutput softmax = computeVariant("softmax", {}, in);
        const std::pair<double, double> softmaxRanks = variantMapRanks(softmax, in.T);  // once per head
        for (size_t i = 0; i < choices.size(); ++i) {
            maps.check();
            const VariantHeadOutput o = computeVariant(choices[i].name, choices[i].params, in);
            const bool isSoftmax = choices[i].name == "softmax";
            VariantHeadMetrics m = compareVariantWith(softmax, o, in.T, in.dv, softmaxRanks, !isSoftmax);
            if (isSoftmax) std::tie(m.effectiveRank, m.stableRank) = softmaxRanks;
            m.head = heads[n];
            out.variants[i].heads.push_back(m);
            if (out.variants[i].note.empty()) out.variants[i].note = o.note;
            if (r.substitute)
                outputs[i][size_t(heads[n])] = guardTorch([&] { return tensorOfOutput(o.o, in.T, in.dv); });
            maps.report((double(n) + double(i + 1) / double(choices.size())) / double(heads.size()));
        }
    }
    for (VariantRun& run : out.variants) run.mean = meanOf(run.heads);
    if (!r.mapVariant.empty()) {
        out.pair = computeVariantHead(model, trace, r.layer, r.mapHead, {r.mapVariant, r.mapParams});
        out.hasPair = true;
    }
    if (!r.substitute) return out;
    guardTorch([&] {
        at::NoGradGuard noGrad;
        const Decoder& dec = ModelAccess::impl(model).decoder;
        const JobControl e2e = job.part(0.5, 1);
        const at::Tensor original = logProbs(dec, ids, {}, true, e2e.part(0, 0.1));
        for (size_t i = 0; i < choices.size(); ++i) {
            const double a = 0.1 + 0.9 * double(i) / double(choices.size()),
                         b = 0.1 + 0.9 * double(i + 1) / double(choices.size());
            out.variants[i].endToEnd = endToEnd(model, ids, r, choices[i], heads, outputs[i], original, e2e.part(a, b));
            out.variants[i].hasEndToEnd = true;
            outputs[i].clear();
        }
    });
    return out;
}

VariantHeadPair computeVariantHead(const Model& model, const Trace& trace, int layer, int head,
                                   const VariantChoice& v) {
    checkShape(model, trace, layer, head);
    if (head < 0) fail(ErrorKind::BadInput, "variants: name one head for its maps");
    const VariantHeadInput in = variantHeadInput(model, trace, layer, head);
    VariantHeadPair p;
    p.layer = layer;
    p.head = head;
    p.T = in.T;
    p.dv = in.dv;
    p.name = v.name;
    p.params = v.params;
    p.softmax = computeVariant("softmax", {}, in);
    p.variant = computeVariant(v.name, v.params, in);
    // A live parameter edit: no SVD of either map (the ranks stay 0; the layer's table has them).
    p.metrics = compareVariantWith(p.softmax, p.variant, in.T, in.dv, {0.0, 0.0}, false);
    p.metrics.head = head;
    return p;
}

}  // namespace attnscope
