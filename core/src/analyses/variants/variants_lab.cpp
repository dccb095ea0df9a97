// The attention-variants lab: a layer's heads through the chosen variants, their metrics
// against the softmax the model ran, and the model re-run with a variant in place.
#include "analyses/variants/variants_lab.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

#include "analyses/variants/variant_detail.h"
#include "attnscope/error.h"
#include "model/model_access.h"
#include "model/model_impl.h"
#include "trace/trace_impl.h"

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
}

// Query head `head`'s tensors from a layer's capture.
variants::HeadTensors headOf(const core::ModelConfig& c, const LayerCapture& in, int head) {
    if (!in.q.defined() || !in.k.defined() || !in.v.defined())
        fail(ErrorKind::NotFound, "the variants lab needs the trace's q, k and v");
    const int g = head / (c.nHeads / c.nKvHeads);
    const bool rope = c.rope.style != core::RopeStyle::None && in.qPre.defined() && in.kPre.defined();
    return variants::headTensors(in.q.select(1, head), in.k.select(1, g), in.v.select(1, g),
                                 rope ? in.qPre.select(1, head) : at::Tensor(),
                                 rope ? in.kPre.select(1, g) : at::Tensor(), c.logitScale(), c.slidingWindow);
}

const LayerCapture& captureOf(const Trace& trace, int layer) {
    const auto* ti = dynamic_cast<const core::TraceImpl*>(&trace);
    if (!ti) fail(ErrorKind::BadInput, "the variants lab needs a trace from Model::run");
    return ti->layer(layer);
}

// The cells of one map's tile, filled block by block of query rows. Pooled: cell (r, c) holds
// the entry of largest magnitude over rows [⌊r·nq/R⌋, ⌈(r+1)·nq/R⌉) x keys [⌊c·nk/C⌋, ⌈(c+1)·nk/C⌉)
// of the extent (sign kept; ties to the positive one).
class TileCells {
public:
    explicit TileCells(const VariantTile& t) : m_t(t) {
        const int64_t nq = t.q1 - t.q0, nk = t.k1 - t.k0;
        m_exact = !t.pooled;
        m_pos = at::zeros({t.rows, t.cols}, at::kDouble);
        if (!m_exact) m_neg = at::zeros({t.rows, t.cols}, at::kDouble);
        m_nq = nq;
        m_nk = nk;
    }
    void add(int64_t r0, const at::Tensor& w) {  // rows r0.. of the map [rows, T]
        const int64_t a = std::max(r0, m_t.q0), b = std::min(r0 + w.size(0), m_t.q1);
        if (a >= b) return;
        const at::Tensor x = w.slice(0, a - r0, b - r0).slice(1, m_t.k0, m_t.k1);
        if (m_exact) {
            m_pos.slice(0, a - m_t.q0, b - m_t.q0).copy_(x);
            return;
        }
        at::Tensor pos = x.clamp_min(0), neg = (-x).clamp_min(0);
        if (m_t.cols < m_nk) {
            pos = std::get<0>(at::adaptive_max_pool1d(pos.unsqueeze(0), {int64_t(m_t.cols)})).squeeze(0);
            neg = std::get<0>(at::adaptive_max_pool1d(neg.unsqueeze(0), {int64_t(m_t.cols)})).squeeze(0);
        }
        // Cell r covers rows [⌊r·n/R⌋, ⌈(r+1)·n/R⌉) of the extent, as adaptive pooling's columns.
        const int64_t R = m_t.rows;
        for (int64_t r = std::max<int64_t>(0, (a - m_t.q0) * R / m_nq - 1); r < R; ++r) {
            const int64_t lo = std::max(a, m_t.q0 + r * m_nq / R),
                          hi = std::min(b, m_t.q0 + ((r + 1) * m_nq + R - 1) / R);
            if (m_t.q0 + r * m_nq / R >= b) break;
            if (lo >= hi) continue;
            for (auto [acc, part] : {std::pair{&m_pos, &pos}, {&m_neg, &neg}}) {
                at::Tensor row = acc->select(0, r);
                row.copy_(at::maximum(row, std::get<0>(part->slice(0, lo - a, hi - a).max(0))));
            }
        }
    }
    std::vector<double> cells() const {
        const at::Tensor t = (m_exact ? m_pos : at::where(m_pos >= m_neg, m_pos, -m_neg)).contiguous();
        return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
    }

private:
    VariantTile m_t;
    bool m_exact = true;
    int64_t m_nq = 0, m_nk = 0;
    at::Tensor m_pos, m_neg;
};

VariantTile resolveTile(VariantTile t, int64_t T) {
    if (t.q1 < 0) t.q1 = T;
    if (t.k1 < 0) t.k1 = T;
    if (t.q0 < 0 || t.q0 >= t.q1 || t.q1 > T || t.k0 < 0 || t.k0 >= t.k1 || t.k1 > T)
        fail(ErrorKind::BadInput, "variants: the map tile must lie inside the prompt's " + std::to_string(T) + " x " +
                                      std::to_string(T) + " map");
    if (t.rows < 1 || t.rows > 4096 || t.cols < 1 || t.cols > 4096)
        fail(ErrorKind::BadInput, "variants: a map tile has 1 to 4096 cells a side");
    t.rows = int(std::min<int64_t>(t.rows, t.q1 - t.q0));
    t.cols = int(std::min<int64_t>(t.cols, t.k1 - t.k0));
    t.pooled = t.rows < t.q1 - t.q0 || t.cols < t.k1 - t.k0;
    return t;
}

// One variant over every query row of a head beside softmax, block by block: the metrics, and
// on request the outputs, row entropies, curve, tiles and whole maps (for ranks).
struct HeadStream {
    bool keepOutput = false, keepMaps = false, keepRows = false;
    const VariantTile* tile = nullptr;
    // Softmax's blocks (map rows, outputs), kept between variants of one head when short.
    std::vector<std::pair<at::Tensor, at::Tensor>>* softmaxBlocks = nullptr;

    VariantHeadMetrics metrics;
    at::Tensor output, softmaxMap, variantMap;
    VariantHeadOutput softmax, variant;  // rows: entropies, curve; tiles: map cells
};

void streamHead(const variants::HeadTensors& h, const VariantChoice& v, HeadStream& s, const JobControl& job) {
    variants::MetricRows metrics;
    std::optional<TileCells> softTile, varTile;
    if (s.tile) softTile.emplace(*s.tile), varTile.emplace(*s.tile);
    std::vector<at::Tensor> outs, softMaps, varMaps, softEnt, varEnt, softCurve, varCurve;
    bool overKeys = false;
    size_t block = 0;
    const bool isSoftmax = v.name == "softmax";
    variants::forEachVariantBlock(
        v.name, v.params, h,
        [&](const variants::HeadTensors& b, variants::VariantTensors& r) {
            at::Tensor P, O;
            if (isSoftmax) {
                P = r.w, O = r.o;
            } else if (s.softmaxBlocks && block < s.softmaxBlocks->size()) {
                std::tie(P, O) = (*s.softmaxBlocks)[block];
            } else {
                const variants::VariantTensors sm = variants::runVariant("softmax", {}, b);
                P = sm.w, O = sm.o;
                if (s.softmaxBlocks) s.softmaxBlocks->emplace_back(P, O);
            }
            ++block;
            const auto [softEntropy, varEntropy] = metrics.add(P, r.w, O, r.o);
            if (s.keepOutput) outs.push_back(r.o);
            if (s.keepMaps) softMaps.push_back(P), varMaps.push_back(r.w);
            if (softTile) softTile->add(b.r0, P), varTile->add(b.r0, r.w);
            if (s.keepRows) {
                softEnt.push_back(softEntropy);
                varEnt.push_back(varEntropy);
                if (r.curve.defined()) varCurve.push_back(r.curve);
                overKeys = r.curveOverKeys;
                s.variant.curveName = r.curveName;
            }
            s.variant.note = r.note;
            job.report(double(b.r1) / double(h.T));
        },
        [&] { job.check(); });
    s.metrics = metrics.finish();
    if (s.keepOutput) s.output = at::cat(outs, 0);
    if (s.keepMaps) s.softmaxMap = at::cat(softMaps, 0), s.variantMap = at::cat(varMaps, 0);
    auto vec = [](const at::Tensor& t) {
        const at::Tensor c = t.contiguous();
        return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
    };
    if (softTile) s.softmax.map = softTile->cells(), s.variant.map = varTile->cells();
    if (s.keepRows) {
        s.softmax.rowEntropy = vec(at::cat(softEnt, 0));
        s.variant.rowEntropy = vec(at::cat(varEnt, 0));
        if (!varCurve.empty()) s.variant.rowCurve = vec(overKeys ? at::stack(varCurve).sum(0) : at::cat(varCurve, 0));
    }
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

// The layer's heads with the variant in place of the model's attention; `stored` [H] holds
// outputs already computed for exactly these inputs (undefined: compute).
at::Tensor substituted(const core::ModelConfig& c, const VariantChoice& v, const std::vector<int>& heads,
                       const LayerCapture& in, const at::Tensor& headOut, const std::vector<at::Tensor>& stored) {
    at::Tensor out = headOut.to(at::kDouble).clone();  // [T, H, d]
    for (int h : heads) {
        at::Tensor o;
        if (size_t(h) < stored.size() && stored[size_t(h)].defined() && stored[size_t(h)].size(0) == out.size(0)) {
            o = stored[size_t(h)];
        } else {
            o = variants::variantOutput(v.name, v.params, headOf(c, in, h));
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
    const LayerCapture& cap = captureOf(trace, r.layer);
    const bool ranks = trace.length() <= kVariantRankTokens;
    for (size_t n = 0; n < heads.size(); ++n) {
        guardTorch([&] {
            at::NoGradGuard noGrad;
            const variants::HeadTensors h = headOf(c, cap, heads[n]);
            // Softmax's blocks once per head when its map is small enough to keep.
            std::vector<std::pair<at::Tensor, at::Tensor>> softmaxBlocks;
            std::pair<double, double> softmaxRanks{0.0, 0.0};
            for (size_t i = 0; i < choices.size(); ++i) {
                const double at = (double(n) + double(i) / double(choices.size())) / double(heads.size());
                HeadStream st;
                st.keepOutput = r.substitute;
                st.keepMaps = ranks && (i == 0 || choices[i].name != "softmax");
                st.softmaxBlocks = ranks ? &softmaxBlocks : nullptr;
                streamHead(h, choices[i], st, maps.part(at, at + 1.0 / double(choices.size() * heads.size())));
                VariantHeadMetrics m = st.metrics;
                if (ranks) {
                    if (i == 0) softmaxRanks = variants::mapRanks(st.softmaxMap);  // once per head
                    std::tie(m.softmaxEffectiveRank, m.softmaxStableRank) = softmaxRanks;
                    std::tie(m.effectiveRank, m.stableRank) =
                        choices[i].name == "softmax" ? softmaxRanks : variants::mapRanks(st.variantMap);
                }
                m.head = heads[n];
                out.variants[i].heads.push_back(m);
                if (out.variants[i].note.empty()) out.variants[i].note = st.variant.note;
                if (r.substitute) outputs[i][size_t(heads[n])] = st.output;
            }
        });
    }
    for (VariantRun& run : out.variants) run.mean = meanOf(run.heads);
    if (!r.mapVariant.empty()) {
        out.pair = computeVariantHead(model, trace, r.layer, r.mapHead, {r.mapVariant, r.mapParams}, r.mapTile);
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

VariantHeadPair computeVariantHead(const Model& model, const Trace& trace, int layer, int head, const VariantChoice& v,
                                   const VariantTile& tile, const JobControl& job, const VariantHeadPair* known) {
    checkShape(model, trace, layer, head);
    if (head < 0) fail(ErrorKind::BadInput, "variants: name one head for its maps");
    variantInfo(v.name);  // an unknown name first
    const core::ModelConfig& c = configOf(model);
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const variants::HeadTensors h = headOf(c, captureOf(trace, layer), head);
        VariantHeadPair p;
        p.layer = layer;
        p.head = head;
        p.T = h.T;
        p.dv = int(h.v.size(1));
        p.name = v.name;
        p.params = v.params;
        p.tile = resolveTile(tile, h.T);
        if (known && known->T == h.T) {  // another tile of a pair already computed: the tile's rows only
            VariantHeadPair q = *known;
            q.tile = p.tile;
            TileCells soft(q.tile), var(q.tile);
            variants::forEachVariantBlock(
                v.name, v.params, h,
                [&](const variants::HeadTensors& b, variants::VariantTensors& r) {
                    soft.add(b.r0, v.name == "softmax" ? r.w : variants::runVariant("softmax", {}, b).w);
                    var.add(b.r0, r.w);
                    job.report(double(b.r1 - q.tile.q0) / double(q.tile.q1 - q.tile.q0));
                },
                [&] { job.check(); }, q.tile.q0, q.tile.q1);
            q.softmax.map = soft.cells();
            q.variant.map = var.cells();
            return q;
        }
        HeadStream st;
        st.keepOutput = st.keepRows = true;
        st.tile = &p.tile;
        streamHead(h, v, st, job);
        p.softmax = std::move(st.softmax);
        p.variant = std::move(st.variant);  // (st.softmax.o stays empty: no front end shows it)
        const at::Tensor o = st.output.contiguous();
        p.variant.o.assign(o.data_ptr<double>(), o.data_ptr<double>() + o.numel());
        // A live parameter edit: no SVD of either map (the ranks stay 0; the layer's table has them).
        p.metrics = st.metrics;
        p.metrics.head = head;
        return p;
    });
}

}  // namespace attnscope
