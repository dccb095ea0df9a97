// A small session with every built-in panel's section, built with the core codecs from
// synthetic data (causal attention rows that sum to one, two sinks, Weibull fits on a line):
// for the registry and window tests, which need no model.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "attnscope/analyses/a3.h"
#include "attnscope/analyses/interventions.h"
#include "attnscope/analyses/variants.h"
#include "attnscope/session.h"
#include "attnscope/session_codecs.h"

namespace sessiontest {

using namespace attnscope;

constexpr int64_t kT = 12;
constexpr int kL = 4, kH = 3;

inline std::vector<float> uniform(size_t n, float lo, float hi, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// Causal rows that sum to one, like real attention.
inline Matrix2D causalAttention(unsigned seed) {
    Matrix2D m{kT, kT, uniform(size_t(kT * kT), 0.01f, 1.f, seed)};
    for (int64_t i = 0; i < kT; ++i) {
        float sum = 0;
        for (int64_t j = 0; j < kT; ++j) sum += j <= i ? m.data[size_t(i * kT + j)] : 0.f;
        for (int64_t j = 0; j < kT; ++j) m.data[size_t(i * kT + j)] = j <= i ? m.data[size_t(i * kT + j)] / sum : 0.f;
    }
    return m;
}

constexpr int64_t kContinuation = 4;  // KV: tokens after the prompt the decisions are evaluated on

// A prefill decision keeping `kept` of every head in the prompt (the rest visible to no
// continuation query), all continuation keys kept.
inline KvSelection keepSelection(const std::string& policy, KvGranularity g, int heads,
                                 const std::function<std::vector<int64_t>(int, int)>& kept) {
    KvSelection sel;
    sel.policy = policy;
    sel.granularity = g;
    sel.T = kT + kContinuation;
    sel.promptLength = kT;
    sel.nLayers = kL, sel.nHeads = kH, sel.nKvHeads = 1, sel.heads = heads;
    sel.kept.assign(size_t(kL), std::vector<std::vector<int64_t>>(size_t(heads)));
    sel.until.assign(size_t(kL * heads * sel.T), kKvNever);
    for (int l = 0; l < kL; ++l) {
        sel.layerBudget.push_back(5);
        for (int h = 0; h < heads; ++h) {
            sel.kept[size_t(l)][size_t(h)] = kept(l, h);
            for (int64_t j = 0; j < kT; ++j)
                if (!std::count(sel.kept[size_t(l)][size_t(h)].begin(), sel.kept[size_t(l)][size_t(h)].end(), j))
                    sel.until[size_t((l * heads + h) * sel.T + j)] = kT;
        }
    }
    return sel;
}

inline KvPolicyInfo syntheticPolicy(const std::string& name, bool withGqa) {
    KvPolicyInfo p;
    p.name = name;
    p.title = name + " (synthetic)";
    p.source = "reference Part 2";
    p.decode = true;
    p.params.push_back({"recent", -1, -1, 1e9, {}, "recent window; -1: half the budget", false});
    if (withGqa) p.params.push_back({"gqa", 0, 0, 3, {"none", "mean", "max", "sum"}, "GQA aggregation", false});
    return p;
}

// H2O per query head (A) against StreamingLLM per layer (B), their metrics and a sweep.
inline KvSection syntheticKv() {
    KvSection k;
    k.policies = {syntheticPolicy("streaming_llm", false), syntheticPolicy("h2o", true)};
    for (int i = 0; i < kT + kContinuation; ++i) {
        k.tokens.ids.push_back(i + 1);
        k.tokens.pieces.push_back(i ? " w" + std::to_string(i) : "<s>");
    }
    k.params = {"h2o", 5, KvMode::Prefill, {{"recent", 3}, {"gqa", 2}}};
    k.selection = keepSelection("h2o", KvGranularity::QueryHead, kH, [](int l, int h) {
        return std::vector<int64_t>{0, int64_t(1 + (l + h) % 8), 9, 10, 11};
    });
    k.metrics.queries = kContinuation;
    k.metrics.retainedMass = 0.8125;
    k.metrics.outputRelErr = 0.1875;
    for (int l = 0; l < kL; ++l) {
        KvLayerMetrics y;
        y.retainedMass = 0.9 - 0.05 * l, y.outputRelErr = 0.1 + 0.03 * l, y.residErr = 0.02 * l, y.layerRelErr = 0.01 * l;
        y.headRetainedMass = uniform(kH, 0.6f, 1.f, unsigned(40 + l));
        y.headOutputRelErr = uniform(kH, 0.f, 0.4f, unsigned(50 + l));
        y.headResidErr = uniform(kH, 0.f, 0.1f, unsigned(60 + l));
        k.metrics.layers.push_back(y);
    }
    k.hasEndToEnd = true;
    k.endToEnd = {int(kContinuation), 0.0625, 0.75, 3.5, 3.25, {0.f, 0.125f, 0.0625f, 0.0625f}, {1, 0, 1, 1}};
    k.hasCompare = true;
    k.compareParams = {"streaming_llm", 5, KvMode::Prefill, {}};
    k.compare = keepSelection("streaming_llm", KvGranularity::Layer, 1, [](int, int) {
        return std::vector<int64_t>{0, 1, 9, 10, 11};
    });
    for (const char* p : {"h2o", "streaming_llm"})
        for (int64_t b : {2, 4, 8, 12}) {
            const double kl = (p[0] == 'h' ? 0.5 : 0.8) / double(b * b);
            k.sweep.push_back({p, b, b >= kT ? 0.0 : kl, b >= kT ? 1.0 : 1 - kl, 3.25 + kl, 3.25, 1 - kl / 2, kl});
        }
    k.sweepMetric = "top1";
    k.sweepLog = false;
    k.sinks = {0, 5};
    return k;
}

// Two matrices per layer with closed-form errors decreasing in rank.
inline QuantSection syntheticQuant() {
    QuantSection q;
    q.quant.bits = 3;
    q.calibTokens = kT;
    for (int l = 0; l < kL; ++l)
        for (const char* c : {"q", "down"}) {
            const int i = int(q.matrices.size()), maxRank = c[0] == 'q' ? 8 : 4;
            q.matrices.push_back({"layers." + std::to_string(l) + "." + c, l, c, 8, maxRank,
                                  c[0] == 'q' ? LinearInput::AttnIn : LinearInput::DownIn});
            const double e0 = 0.2 + 0.01 * i;
            q.quantOnly.push_back({e0 / 2, e0, e0 * e0});
            std::vector<ReconCurve> curves;
            for (ReconMethod m : kReconMethods) {
                ReconCurve cv;
                cv.method = m;
                for (int r = 0; r <= maxRank; ++r) {
                    const double e = e0 / (1.0 + 0.1 * int(m) * r);
                    cv.weightRelErr.push_back(e / 2);
                    cv.outputRelErr.push_back(e);
                    cv.mse.push_back(e * e);
                    if (r < maxRank) cv.sigma.push_back(1.0 / (r + 1));
                }
                curves.push_back(cv);
            }
            q.curves.push_back(curves);
        }
    q.methodA = "lorc";
    q.methodB = "qera-exact";
    q.error = "weight";
    q.rank = 3;
    q.matrix = 2;
    return q;
}

// An A^3 sweep whose errors fall with rank to 0 at full rank, A^3 below its baseline.
inline A3Result syntheticA3() {
    A3Result r;
    r.nLayers = kL, r.nHeads = kH, r.nKvHeads = 1, r.headDim = 8, r.dModel = 24, r.dFF = 32;
    r.vocabSize = 64, r.contextLength = 128;
    r.rope = true, r.rotaryDim = 8;
    r.qkMode = "whole rotary frequency pairs";
    r.fractions = {0.25, 0.5, 0.75, 1.0};
    r.calibTokens = 40, r.heldOutRows = 40;
    for (int l = 0; l < kL; ++l) {
        A3Layer layer;
        for (A3Component c : {A3Component::QK, A3Component::OV, A3Component::MLP}) {
            const int full = c == A3Component::MLP ? r.dFF : r.headDim;
            std::vector<A3Point>& pts = c == A3Component::QK ? layer.qk : c == A3Component::OV ? layer.ov : layer.mlp;
            for (double f : r.fractions) {
                const double e = (1 - f) * (0.5 + 0.1 * l + 0.05 * int(c));
                A3Point p;
                p.r = int(f * full), p.fraction = f;
                p.objective = 0.9 * e, p.baselineObjective = e;
                p.heldOut = e, p.baselineHeldOut = 1.2 * e;
                p.rowKl = c == A3Component::QK ? 0.1 * e : 0, p.baselineRowKl = c == A3Component::QK ? 0.15 * e : 0;
                p.weightErr = 1.1 * e, p.baselineWeightErr = 0.8 * e;
                p.paramsSaved = int64_t(full - p.r) * r.dModel * 2;
                pts.push_back(p);
            }
        }
        r.layers.push_back(layer);
    }
    return r;
}

// Three variants of layer 1 against softmax (two with an end-to-end run) and head 2's map pair:
// softmax beside its top-2 truncation (each row's two largest weights, renormalised).
inline VariantsResult syntheticVariants() {
    VariantsResult r;
    r.layer = 1, r.head = -1, r.tokens = kT;
    const char* names[] = {"softmax", "topk", "elu_linear"};
    for (int v = 0; v < 3; ++v) {
        VariantRun run;
        run.name = names[v];
        run.paramText = v == 1 ? "k=2" : "";
        if (v == 1) run.params["k"] = 2;
        for (int h = 0; h < kH; ++h) {
            VariantHeadMetrics m;
            m.head = h;
            m.outputRelErr = 0.1 * v + 0.01 * h, m.cosine = 1 - 0.02 * v, m.rowKlMean = 0.05 * v,
            m.rowTvMean = 0.03 * v;
            m.softmaxEntropy = 1.2, m.entropy = 1.2 - 0.3 * v + 0.1 * h, m.entropyGap = m.entropy - m.softmaxEntropy;
            m.effectiveRank = 6 - v, m.softmaxEffectiveRank = 6, m.stableRank = 2, m.softmaxStableRank = 2;
            m.keptMass = v == 1 ? 0.8 : 1;
            run.heads.push_back(m);
        }
        run.mean = run.heads[1];
        run.mean.head = -1;
        if (v > 0) {
            run.hasEndToEnd = true;
            for (int i = 0; i < kT; ++i) run.endToEnd.kl.push_back(0.01 * v * (1 + std::sin(double(i))));
            run.endToEnd.klMean = 0.01 * v, run.endToEnd.klMax = 0.02 * v, run.endToEnd.top1 = 1 - 0.1 * v;
            run.endToEnd.heldOutFrom = kT / 2, run.endToEnd.ppl = 10 + v, run.endToEnd.pplOriginal = 10;
            run.endToEnd.continuation = {3, 4}, run.endToEnd.continuationOriginal = {3, 5};
        }
        r.variants.push_back(run);
    }
    VariantHeadPair& p = r.pair;
    p.layer = 1, p.head = 2, p.T = kT, p.dv = 8, p.name = "topk", p.params["k"] = 2;
    p.tile = {0, kT, 0, kT, int(kT), int(kT), false};
    const Matrix2D a = causalAttention(7);
    p.softmax.map.assign(a.data.begin(), a.data.end());
    p.variant.map.assign(size_t(kT * kT), 0.0);
    for (int64_t i = 0; i < kT; ++i) {
        std::vector<std::pair<double, int64_t>> row;
        for (int64_t j = 0; j <= i; ++j) row.push_back({p.softmax.map[size_t(i * kT + j)], -j});
        std::sort(row.rbegin(), row.rend());
        double z = 0;
        for (size_t n = 0; n < std::min<size_t>(2, row.size()); ++n) z += row[n].first;
        for (size_t n = 0; n < std::min<size_t>(2, row.size()); ++n)
            p.variant.map[size_t(i * kT - row[n].second)] = row[n].first / z;
    }
    for (VariantHeadOutput* o : {&p.softmax, &p.variant})
        for (int64_t i = 0; i < kT; ++i) {
            double h = 0;
            for (int64_t j = 0; j <= i; ++j)
                if (const double w = o->map[size_t(i * kT + j)]; w > 0) h -= w * std::log(w);
            o->rowEntropy.push_back(h);
        }
    p.metrics = r.variants[1].heads[2];
    r.hasPair = true;
    return r;
}

inline Session syntheticSession() {
    Session s;
    s.appVersion = "test";
    s.created = "2026-11-22T00:00:00Z";
    s.model.path = "/nonexistent/model";
    s.prompt = "a b c d e f g h i j k";
    for (int i = 0; i < kT; ++i) {
        s.tokenIds.push_back(i + 1);
        s.tokenPieces.push_back(i ? " w" + std::to_string(i) : "<s>");
    }
    s.view.layer = 1;
    s.view.head = 2;
    AttentionSection a;
    a.layer = 1, a.head = 2, a.nLayers = kL, a.nHeads = kH;
    for (int l = 0; l < kL; ++l)
        for (int h = -1; h < kH; ++h) a.maps.push_back({l, h, 0, kT, 0, kT, causalAttention(unsigned(l * 10 + h + 1))});
    s.panels["attention"] = encodeAttention(a);
    const size_t n = size_t(kL * kH);
    HeadScores heads =
        emptyHeadScores(kL, kH,
                        {{"entropy", "Entropy", "mean row entropy (nats)", "", "", 0},
                         {"first_token", "Mass on first token", "mean A[i, 0]", "", "sink", 0.5},
                         {"previous_token", "Previous-token score", "mean A[i, i-1]", "", "previous-token", 0.4},
                         {"induction", "Induction score", "mul", "", "induction", 0.3}});
    heads.tokens = heads.sampledRows = kT;
    heads.score = "first_token";
    heads.values = {uniform(n, 0, 2, 1), uniform(n, 0, 1, 2), uniform(n, 0, 1, 3), uniform(n, 0, 1, 4)};
    s.panels["heads"] = encodeHeadScores(heads);
    {  // the interventions: a lens, an MLP ablation, a patching map
        LogitLens lens;
        lens.nLayers = kL, lens.T = kT, lens.topK = 2, lens.target = 3;
        const size_t lt = size_t(kL * kT);
        lens.topProb = uniform(lt * 2, 0.05f, 0.5f, 71);
        for (size_t i = 0; i < lt; ++i) {
            lens.top.push_back(int32_t(i % 7)), lens.top.push_back(int32_t(i % 7 + 1));
            lens.finalRank.push_back(int32_t((lt - i) % 9)), lens.targetRank.push_back(int32_t(i % 5));
            lens.pieces[int32_t(i % 7)] = "w" + std::to_string(i % 7);
        }
        lens.pieces[7] = "w7";
        lens.klToFinal = uniform(lt, 0.f, 3.f, 72);
        lens.targetProb = uniform(lt, 0.f, 1.f, 73);
        s.panels["logit_lens"] = encodeLogitLens(lens);
        InterventionSection a;
        InterventionResult& r = a.ablation;
        r.params.what = "mlp", r.params.layer = 1, r.params.tokens = {4};
        r.T = kT, r.nLayers = kL, r.nHeads = kH;
        r.kl = uniform(size_t(kT), 0.f, 0.5f, 74), r.logitDelta = uniform(size_t(kT), -1.f, 1.f, 75);
        r.logprobDelta = uniform(size_t(kT), -1.f, 0.f, 76);
        for (int64_t t = 0; t < kT; ++t) r.top1.push_back(int32_t(t % 5)), r.ablatedTop1.push_back(int32_t(t % 4));
        r.tracked = {0, 4}, r.lifetimeBefore = {4, 2}, r.lifetimeAfter = {4, 0};
        r.scoreBefore = uniform(size_t(2 * kL), 0.f, 1.f, 77), r.scoreAfter = uniform(size_t(2 * kL), 0.f, 1.f, 78);
        r.note = "ablated: mlp in layer 1";
        s.panels["intervene"] = encodeIntervention(a);
        PatchResult p;
        p.what = "resid", p.nLayers = kL, p.nHeads = kH, p.T = kT, p.ldClean = 2, p.ldCorrupt = -1;
        p.normalized = uniform(size_t(kL * kT), -0.2f, 1.f, 79), p.delta = uniform(size_t(kL * kT), -0.5f, 3.f, 80);
        p.note = "denoising";
        s.panels["patch"] = encodePatch(p);
    }
    SinksSection k;
    SinkResult& r = k.result;
    r.T = kT, r.nLayers = kL, r.source = SinkSource::Attention, r.rule = SinkRule::Relative, r.primary = 0;
    r.onset = 1, r.offset = kL;
    r.primaryNorm = uniform(kL, 1, 5, 5);
    for (int l = 0; l < kL; ++l) {
        SinkLayer y;
        y.sinkScore = uniform(size_t(kT), 0, 0.5f, unsigned(10 + l));
        y.sinkScore[0] = 0.8f;
        y.fracHeads = uniform(size_t(kT), 0, 1, unsigned(20 + l));
        y.massive.assign(size_t(kT), 0);
        y.flagged.assign(size_t(kT), 0);
        y.flagged[0] = l >= 1;
        y.flagged[5] = l == 2 || l == 3;
        y.primaryStrength = 0.8f;
        y.weakening = 0.05f * float(l);
        y.secondaryCreated = l == 2;
        r.layers.push_back(y);
    }
    r.sinks = {{0, 1, SinkClass::Primary, {1, 2, 3}, 3, 1, 0.8f, 3, 0, 0}, {5, 6, SinkClass::Secondary, {2, 3}, 2, 2, 0.3f, 2, 0, 0}};
    r.levels = {{1, 3, 1, 0.8f, SinkClass::Primary, {0}}, {2, 2, 1, 0.3f, SinkClass::Secondary, {5}}};
    k.params.source = SinkSource::Attention;
    s.panels["sinks"] = encodeSinks(k);
    WeibullSection w;
    const char* comps[] = {"q", "k", "v", "o"};
    for (int l = 0; l < kL; ++l)
        for (const char* c : comps) {
            WeibullMatrixFit f;
            f.name = "model.layers." + std::to_string(l) + ".self_attn." + c + "_proj.weight";
            f.layer = l;
            f.component = c;
            f.shape = {64, 64};
            f.fit.ok = true;
            f.fit.k = 1.1 + 0.03 * l + (c[0] == 'v' ? 0.1 : 0);
            f.fit.lambda = 0.02;
            f.fit.r2 = 0.995;
            f.fit.nValues = 4096;
            f.fit.cls = "transmission";
            f.fit.drift = "mild";
            f.fit.windowLnLo = -6;
            f.fit.windowLnHi = -3;
            w.fits.push_back(f);
        }
    w.selected = w.fits[1].name;
    w.hasPlot = true;
    for (int i = 0; i < 200; ++i) {  // points on the fitted line y = k (x - ln lambda)
        const double x = -9 + 6.0 * i / 199;
        w.plot.lnAbs.push_back(x);
        w.plot.y.push_back(w.fits[1].fit.k * (x - std::log(0.02)));
    }
    w.plot.log10Counts.assign(1024, 0);
    for (int b = 500; b < 740; ++b) w.plot.log10Counts[size_t(b)] = std::log10(1.0 + 300 * std::exp(-((b - 620) * (b - 620)) / 800.0));
    s.panels["weibull"] = encodeWeibull(w);
    s.panels["kv"] = encodeKv(syntheticKv());
    s.panels["quant"] = encodeQuant(syntheticQuant());
    s.panels["a3"] = encodeA3(syntheticA3());
    s.panels["variants"] = encodeVariants(syntheticVariants());
    return s;
}

}  // namespace sessiontest
