// The seed sessions of fuzz/corpus/session (written by make_session_seeds): small sessions
// that every panel codec accepts. tests/core/io/tst_fuzz_regressions rebuilds its findings
// from the same seeds the fuzzer mutated.
#pragma once
#include <string>

#include "attnscope/session.h"
#include "attnscope/analyses/interventions.h"
#include "attnscope/session_codecs.h"

namespace attnscope::fuzz {

inline Session attentionHeadsSeed() {
    Session s;
    s.appVersion = "0.1.0";
    s.created = "2026-11-22T10:00:00Z";
    s.model = {"attnscope-tiny", "", "llama", std::string(64, '0'), "cpu", "fp32", -1};
    s.prompt = "Call me Ishmael.";
    s.tokenIds = {0, 7, 9};
    s.tokenPieces = {"<|bos|>", "Call", " me"};
    s.view.openPanels = {"attention", "heads"};
    AttentionSection att;
    att.maps.push_back({0, -1, 0, 3, 0, 3, Matrix2D{3, 3, {1, 0, 0, .5f, .5f, 0, .2f, .3f, .5f}}});
    s.panels["attention"] = encodeAttention(att);
    HeadScores heads = emptyHeadScores(
        1, 2, {{"entropy", "Entropy", "nats", "", "", 0}, {"first_token", "First", "", "", "sink", 0.5}});
    heads.tokens = heads.sampledRows = 3;
    heads.values = {{1, 2}, {.5f, .5f}};
    heads.notes["first_token"] = "seed";
    s.panels["heads"] = encodeHeadScores(heads);
    return s;
}

// One fit of a [4, 8] matrix (32 values, 30 of them in the fit), and its plot.
inline WeibullSection weibullSeed() {
    WeibullSection wb;
    WeibullMatrixFit f;
    f.name = "model.layers.0.mlp.down_proj.weight";
    f.layer = 0;
    f.component = "down";
    f.shape = {4, 8};
    f.fit.ok = true;
    f.fit.k = 1.2, f.fit.lambda = 0.02, f.fit.r2 = 0.99, f.fit.nValues = 32, f.fit.nFit = 30;
    wb.fits.push_back(f);
    wb.selected = f.name;
    wb.hasPlot = true;
    wb.plot.lnAbs = {-3, -2};
    wb.plot.y = {-1, 0};
    wb.plot.log10Counts.assign(16, 0.5);
    return wb;
}

inline Session weibullSinksSeed() {
    Session w;
    w.panels["weibull"] = encodeWeibull(weibullSeed());
    w.panels["sinks"] = encodeSinks(SinksSection{});
    return w;
}

inline Session kvQuantSeed() {
    Session k;
    KvSection kv;
    kv.sweep.push_back({"h2o", 16, 0.1, 0.9, 2.0, 1.9, 0.8, 0.1});
    kv.sweep.push_back({"streaming_llm", 32, 0.05, 1.0, 1.95, 1.9, 0.9, 0.05});
    kv.sinks = {0};
    k.panels["kv"] = encodeKv(kv);
    QuantSection q;
    q.matrices.resize(1);
    q.quantOnly.resize(1);
    q.curves.resize(1);
    k.panels["quant"] = encodeQuant(q);
    return k;
}

// The interventions' sections: an ablation, a causal sink test, a patching map and a lens.
inline Session interventionsSeed() {
    Session s;
    InterventionSection a;
    InterventionResult& r = a.ablation;
    r.T = 2, r.nLayers = 1, r.nHeads = 1;
    r.kl = {0, 0.5f}, r.logitDelta = {0, -1}, r.logprobDelta = {0, -0.5f}, r.top1 = {3, 4}, r.ablatedTop1 = {3, 5};
    r.tracked = {0}, r.scoreBefore = {0.9f}, r.scoreAfter = {0.1f}, r.lifetimeBefore = {1}, r.lifetimeAfter = {0};
    r.pieces = {{3, "a"}, {4, "b"}};
    s.panels["intervene"] = encodeIntervention(a);
    InterventionSection t;
    t.kind = "sink_test";
    t.sinkTest.rows.push_back({"creation layer", 0, 0, "zero", 0, {0.9f}, {0.2f}, 1, 0, 2.f, 0.5f, 0.1});
    s.panels["sink_test"] = encodeIntervention(t);
    PatchResult p;
    p.what = "resid", p.nLayers = 1, p.nHeads = 1, p.T = 2, p.normalized = {0, 1}, p.delta = {0, 2};
    s.panels["patch"] = encodePatch(p);
    LogitLens l;
    l.nLayers = 1, l.T = 2, l.topK = 1, l.top = {3, 4}, l.topProb = {0.5f, 0.6f}, l.klToFinal = {0, 0},
    l.finalRank = {0, 0};
    s.panels["logit_lens"] = encodeLogitLens(l);
    return s;
}

}  // namespace attnscope::fuzz
