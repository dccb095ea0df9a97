// runIntervention (attnscope/analyses/interventions.h, reference §F.1, F.3): one change, every
// later computation live, compared with the run unchanged.
#include <algorithm>
#include <functional>
#include <limits>
#include <set>

#include "analyses/interventions/interventions_detail.h"
#include "attnscope/analyses/interventions.h"
#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "model/model_access.h"
#include "model/model_impl.h"
#include "trace/trace_impl.h"

namespace attnscope {
namespace {

using namespace interventions;

// y's rows at `tokens` (every row when empty) replaced as `mode` says: zero, the mean of the rows
// but row 0 (BOS), or scaled. y: [T, ...].
at::Tensor ablateRows(const at::Tensor& y, const AblationParams& p, const at::Tensor& keep = {}) {
    at::Tensor out = y.clone();
    const int64_t T = y.size(0);
    at::Tensor rows = p.tokens.empty() ? at::arange(T, at::kLong)
                                       : at::tensor(std::vector<int64_t>(p.tokens.begin(), p.tokens.end()), at::kLong);
    rows = rows.to(y.device());
    at::Tensor replacement;
    if (p.mode == "zero") replacement = at::zeros_like(y.index_select(0, rows));
    else if (p.mode == "scale") replacement = y.index_select(0, rows) * p.scale;
    else {  // mean over positions but BOS
        const at::Tensor m = (T > 1 ? y.slice(0, 1, T) : y).mean(0, true);
        replacement = m.expand_as(y.index_select(0, rows)).contiguous();
    }
    if (keep.defined()) replacement = at::where(keep, y.index_select(0, rows), replacement);  // untouched slices
    out.index_copy_(0, rows, replacement);
    return out;
}

// Attention probabilities [H, T, T] (float32) with keys `hidden` removed from every query but
// their own (no row is empty).
at::Tensor maskedProbabilities(const core::ModelConfig& c, const core::LayerCapture& in,
                               const std::vector<int64_t>& hidden) {
    const int64_t T = in.q.size(0), H = in.q.size(1), G = H / in.k.size(1);
    const at::Tensor q = in.q.to(at::kFloat).transpose(0, 1);                          // [H, T, d]
    const at::Tensor k = in.k.to(at::kFloat).repeat_interleave(G, 1).transpose(0, 1);  // [H, T, d]
    const at::Tensor i = at::arange(T, q.options().dtype(at::kLong)).unsqueeze(1), j = i.t();
    at::Tensor visible = j <= i;
    if (c.slidingWindow > 0) visible = visible & (j > i - c.slidingWindow);
    at::Tensor gone = at::zeros({1, T}, visible.options());
    for (int64_t t : hidden) gone.index_fill_(1, at::tensor({t}, at::kLong).to(gone.device()), true);
    visible = visible & ((gone == false) | (i == j));
    const at::Tensor s = at::matmul(q, k.transpose(1, 2)) * c.logitScale();
    return at::softmax(s.masked_fill(visible.logical_not(), -std::numeric_limits<float>::infinity()), -1);
}

// Head outputs [T, H, d] with keys `hidden` removed from every query but their own.
at::Tensor attentionWithout(const core::ModelConfig& c, const core::LayerCapture& in,
                            const std::vector<int64_t>& hidden) {
    const int64_t G = in.q.size(1) / in.k.size(1);
    const at::Tensor v = in.v.to(at::kFloat).repeat_interleave(G, 1).transpose(0, 1);  // [H, T, d]
    return at::matmul(maskedProbabilities(c, in, hidden), v).transpose(0, 1).to(in.q.dtype());
}

// The trace's statistics know nothing of hidden keys: the sinks analysis of a run with hidden
// keys reads α^{l,h}_t from the masked probabilities of the layers they were hidden in.
void maskedAlphas(SinkInputs& in, const Trace& trace, const core::ModelConfig& c, const std::vector<int64_t>& hidden,
                  int from, int to) {
    const auto* ti = dynamic_cast<const core::TraceImpl*>(&trace);
    const int64_t T = in.T, P = std::min(in.minQueryPos, T), H = in.nHeads;
    const at::Tensor t = at::arange(T, at::kLong);
    // Rows i >= P that see key t: [max(t, P), T), or to t + window with a sliding window.
    const at::Tensor end = c.slidingWindow > 0 ? at::clamp_max(t + c.slidingWindow, T) : at::full({T}, T, at::kLong);
    const at::Tensor count = (end - at::maximum(t, at::full({T}, P, at::kLong))).clamp_min(1).to(at::kFloat);
    for (int l = from; l < to; ++l) {
        const at::Tensor alpha =
            (maskedProbabilities(c, ti->layer(l), hidden).slice(1, P, T).sum(1).to(at::kCPU) / count)
                .contiguous();  // [H, T]
        std::copy(alpha.data_ptr<float>(), alpha.data_ptr<float>() + H * T,
                  in.headAlpha.begin() + std::ptrdiff_t(int64_t(l) * H * T));
        const at::Tensor score = alpha.mean(0).contiguous();
        std::copy(score.data_ptr<float>(), score.data_ptr<float>() + T,
                  in.sinkScore.begin() + std::ptrdiff_t(int64_t(l) * T));
        std::vector<float> sorted(score.data_ptr<float>(), score.data_ptr<float>() + T);
        std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(T / 2), sorted.end());
        in.scoreMedian[size_t(l)] = sorted[size_t(T / 2)];
    }
}

void check(const core::ModelConfig& c, const AblationParams& p, int64_t T) {
    static const std::set<std::string> whats = {"none", "head", "attn", "mlp", "kv", "sink"};
    if (!whats.count(p.what))
        fail(ErrorKind::BadInput, "ablate: '" + p.what + "' is not one of none, head, attn, mlp, kv, sink");
    if (p.mode != "zero" && p.mode != "mean" && p.mode != "scale")
        fail(ErrorKind::BadInput, "ablate: mode '" + p.mode + "' is not one of zero, mean, scale");
    checkLayer(c, p.layer, "ablate");
    for (int h : p.heads)
        if (h < 0 || h >= c.nHeads)
            fail(ErrorKind::BadInput,
                 "ablate: head " + std::to_string(h) + " out of range (" + std::to_string(c.nHeads) + " heads)");
    for (int64_t t : p.tokens)
        if (t < 0 || t >= T)
            fail(ErrorKind::BadInput,
                 "ablate: token " + std::to_string(t) + " out of range (" + std::to_string(T) + " tokens)");
    if (p.what == "kv" && p.tokens.empty())
        fail(ErrorKind::BadInput, "ablate kv: give the tokens whose keys are hidden");
    if (p.target >= c.vocabSize) fail(ErrorKind::BadInput, "ablate: target token id out of range");
}

Hooks hooksFor(const core::ModelConfig& c, const AblationParams& p, int64_t primary) {
    Hooks h;
    const int L = p.layer;
    if (p.what == "head") {
        h.attention = [&c, p, L](int l, const core::LayerCapture&, const at::Tensor& z) {
            if (l != L) return at::Tensor();
            at::Tensor keep;  // heads left alone keep their output
            if (!p.heads.empty()) {
                keep = at::ones({1, c.nHeads, 1}, z.options().dtype(at::kBool));
                for (int head : p.heads)
                    keep.index_fill_(1, at::tensor({int64_t(head)}, at::kLong).to(z.device()), false);
            }
            return ablateRows(z, p, keep);
        };
    } else if (p.what == "attn" || p.what == "mlp") {
        auto f = [p, L](int l, const at::Tensor& y) { return l == L ? ablateRows(y, p) : at::Tensor(); };
        (p.what == "attn" ? h.attnOut : h.mlp) = f;
    } else if (p.what == "kv" || p.what == "sink") {
        const std::vector<int64_t> hidden = p.what == "sink" ? std::vector<int64_t>{primary} : p.tokens;
        h.attention = [&c, p, L, hidden](int l, const core::LayerCapture& in, const at::Tensor&) {
            if (l < L || (!p.laterLayers && l != L)) return at::Tensor();
            return attentionWithout(c, in, hidden);
        };
    }
    return h;
}

SinkResult sinksOf(const Trace& trace, const SinkParams& params, const std::function<void(SinkInputs&)>& adjust = {}) {
    SinkInputOptions o;
    o.references = params.bosCandidates;
    for (int64_t r : {0, 1, 2, 3})
        if (std::find(o.references.begin(), o.references.end(), r) == o.references.end() && r < trace.length())
            o.references.push_back(r);
    o.references.erase(
        std::remove_if(o.references.begin(), o.references.end(), [&](int64_t r) { return r >= trace.length(); }),
        o.references.end());
    SinkInputs in = computeSinkInputs(trace, params.minQueryPos, o);
    if (adjust) adjust(in);
    return classifySinks(in, params);
}

int lifetimeOf(const SinkResult& r, int64_t token) {
    for (const SinkToken& s : r.sinks)
        if (s.token == token && s.cls != SinkClass::None) return s.lifetime;
    return 0;
}

}  // namespace

InterventionResult runIntervention(Model& model, const std::vector<int32_t>& ids, const AblationParams& params,
                                   const SinkParams& sinkParams, const JobControl& job) {
    return guardTorch([&] {
        const core::ModelConfig& c = configOf(model);
        const int64_t T = int64_t(ids.size());
        check(c, params, T);
        const TracePolicy policy = sinkTracePolicy();
        const Run clean = hookedRun(model, ids, {}, &policy, job.part(0, 0.45));
        const SinkResult before = sinksOf(*clean.trace, sinkParams);
        const Run ablated = hookedRun(model, ids, hooksFor(c, params, before.primary), &policy, job.part(0.45, 0.9));
        std::function<void(SinkInputs&)> adjust;
        if (params.what == "kv" || params.what == "sink") {
            const std::vector<int64_t> hidden =
                params.what == "sink" ? std::vector<int64_t>{before.primary} : params.tokens;
            const int to = params.laterLayers ? c.nLayers : params.layer + 1;
            adjust = [&, hidden, to](SinkInputs& in) { maskedAlphas(in, *ablated.trace, c, hidden, params.layer, to); };
        }
        const SinkResult after = sinksOf(*ablated.trace, sinkParams, adjust);
        InterventionResult r;
        r.params = params;
        r.T = T;
        r.nLayers = c.nLayers;
        r.nHeads = c.nHeads;
        const at::Tensor kl = klRows(clean.logits, ablated.logits).to(at::kFloat).contiguous();
        r.kl.assign(kl.data_ptr<float>(), kl.data_ptr<float>() + T);
        r.meanKl = kl.to(at::kDouble).mean().item<double>();
        r.maxKl = kl.max().item<float>();
        const at::Tensor top = clean.logits.argmax(1), topAfter = ablated.logits.argmax(1);
        const at::Tensor target = params.target >= 0 ? at::full({T}, int64_t(params.target), at::kLong) : top;
        const at::Tensor la = at::log_softmax(clean.logits.to(at::kDouble), 1),
                         lb = at::log_softmax(ablated.logits.to(at::kDouble), 1);
        const at::Tensor idx = target.unsqueeze(1);
        const at::Tensor dLogit = (ablated.logits.gather(1, idx) - clean.logits.gather(1, idx)).squeeze(1).contiguous();
        const at::Tensor dLogp = (lb.gather(1, idx) - la.gather(1, idx)).squeeze(1).to(at::kFloat).contiguous();
        r.logitDelta.assign(dLogit.data_ptr<float>(), dLogit.data_ptr<float>() + T);
        r.logprobDelta.assign(dLogp.data_ptr<float>(), dLogp.data_ptr<float>() + T);
        for (int64_t t = 0; t < T; ++t) {
            r.top1.push_back(int32_t(top[t].item<int64_t>()));
            r.ablatedTop1.push_back(int32_t(topAfter[t].item<int64_t>()));
        }
        r.top1Agreement = (top == topAfter).to(at::kDouble).mean().item<double>();
        // The sinks of both runs and the ablated tokens, at most 16 positions.
        std::set<int64_t> tracked;
        for (const SinkResult* s : {&before, &after})
            for (const SinkToken& t : s->sinks)
                if (t.cls == SinkClass::Primary || t.cls == SinkClass::Secondary) tracked.insert(t.token);
        for (int64_t t : params.tokens) tracked.insert(t);
        if (params.what == "sink") tracked.insert(before.primary);
        for (int64_t t : tracked) {
            if (r.tracked.size() >= 16) break;
            r.tracked.push_back(t);
            for (int l = 0; l < c.nLayers; ++l) {
                r.scoreBefore.push_back(before.layers[size_t(l)].sinkScore[size_t(t)]);
                r.scoreAfter.push_back(after.layers[size_t(l)].sinkScore[size_t(t)]);
            }
            r.lifetimeBefore.push_back(lifetimeOf(before, t));
            r.lifetimeAfter.push_back(lifetimeOf(after, t));
        }
        if (const Tokenizer* tok = model.tokenizer()) {
            for (const std::vector<int32_t>* v : {&r.top1, &r.ablatedTop1})
                for (int32_t id : *v) r.pieces.emplace(id, tok->piece(id));
            if (params.target >= 0) r.pieces.emplace(params.target, tok->piece(params.target));
        }
        r.note = params.what == "none" ? "nothing ablated"
                                       : "ablated: " + params.what + " in layer " + std::to_string(params.layer);
        job.report(1);
        return r;
    });
}

// ---- the causal sink test (§F.2) --------------------------------------------------------------

SinkTestResult sinkCausalTest(Model& model, const std::vector<int32_t>& ids, const SinkTestParams& params,
                              const JobControl& job) {
    return guardTorch([&] {
        const core::ModelConfig& c = configOf(model);
        const int64_t T = int64_t(ids.size());
        const TracePolicy policy = sinkTracePolicy();
        const Run clean = hookedRun(model, ids, {}, &policy, job.part(0, 0.1));
        const SinkResult before = sinksOf(*clean.trace, params.sinks);
        SinkTestResult out;
        out.primary = before.primary;
        // The sink: the one asked for, else the longest-lived secondary sink, else the primary.
        const SinkToken* sink = nullptr;
        for (const SinkToken& s : before.sinks) {
            if (params.token >= 0 ? s.token == params.token && s.cls != SinkClass::None
                                  : s.cls == SinkClass::Secondary && (!sink || s.lifetime > sink->lifetime))
                sink = &s;
        }
        if (!sink && params.token < 0)
            for (const SinkToken& s : before.sinks)
                if (s.cls == SinkClass::Primary) sink = &s;
        if (!sink || sink->creationLayer < 0)
            fail(ErrorKind::BadInput, params.token >= 0
                                          ? "token " + std::to_string(params.token) + " is not a sink of this prompt"
                                          : "this prompt has no sink to test");
        out.token = sink->token;
        out.creationLayer = sink->creationLayer;
        const int created = sink->creationLayer;
        const int controlLayer = created + 1 < c.nLayers ? created + 1 : created - 1;
        // A control token: the lowest sink score at the creation layer among non-sinks after BOS.
        int64_t controlToken = -1;
        float lowest = std::numeric_limits<float>::infinity();
        for (int64_t t = 1; t < T; ++t) {
            if (lifetimeOf(before, t) > 0 || t == sink->token) continue;
            const float s = before.layers[size_t(created)].sinkScore[size_t(t)];
            if (s < lowest) {
                lowest = s;
                controlToken = t;
            }
        }
        struct Case {
            std::string label;
            int64_t token;
            int layer;
            std::string mode;
            double scale;
        };
        std::vector<Case> cases = {{"creation layer", sink->token, created, params.mode, 0}};
        if (controlLayer >= 0 && controlLayer != created)
            cases.push_back(
                {"control: layer " + std::to_string(controlLayer), sink->token, controlLayer, params.mode, 0});
        if (controlToken >= 0)
            cases.push_back({"control: token " + std::to_string(controlToken), controlToken, created, params.mode, 0});
        for (double s : params.scales)
            cases.push_back({"scale " + std::to_string(s).substr(0, 4), sink->token, created, "scale", s});
        const auto* ti = dynamic_cast<const core::TraceImpl*>(clean.trace.get());
        for (size_t i = 0; i < cases.size(); ++i) {
            job.check();
            const Case& k = cases[i];
            AblationParams a;
            a.what = "mlp";
            a.layer = k.layer;
            a.mode = k.mode;
            a.scale = k.scale;
            a.tokens = {k.token};
            const double from = 0.1 + 0.9 * double(i) / double(cases.size()),
                         to = 0.1 + 0.9 * double(i + 1) / double(cases.size());
            const Run run = hookedRun(model, ids, hooksFor(c, a, before.primary), &policy, job.part(from, to));
            const SinkResult after = sinksOf(*run.trace, params.sinks);
            SinkTestRow row;
            row.label = k.label;
            row.token = k.token;
            row.layer = k.layer;
            row.mode = k.mode;
            row.scale = k.scale;
            for (int l = 0; l < c.nLayers; ++l) {
                row.scoreBefore.push_back(before.layers[size_t(l)].sinkScore[size_t(k.token)]);
                row.scoreAfter.push_back(after.layers[size_t(l)].sinkScore[size_t(k.token)]);
            }
            row.lifetimeBefore = lifetimeOf(before, k.token);
            row.lifetimeAfter = lifetimeOf(after, k.token);
            const core::LayerCapture& cap = ti->layer(k.layer);
            const at::Tensor y = cap.mlpOut[k.token].to(at::kCPU, at::kDouble),
                             hp = cap.residOut[before.primary].to(at::kCPU, at::kDouble);
            row.mlpNorm = float(y.norm().item<double>());
            const double denom = y.norm().item<double>() * hp.norm().item<double>();
            row.cosPrimary = denom > 0 ? float(y.dot(hp).item<double>() / denom) : 0.f;
            row.meanKl = klRows(clean.logits, run.logits).mean().item<double>();
            out.rows.push_back(std::move(row));
        }
        out.note = "sink at token " + std::to_string(out.token) + " (" + std::string(sinkClassName(sink->cls)) +
                   ", lifetime " + std::to_string(sink->lifetime) + "), created in layer " + std::to_string(created) +
                   "; its MLP output there ablated (" + params.mode + ")";
        return out;
    });
}

}  // namespace attnscope
