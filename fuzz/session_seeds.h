// The seed sessions of fuzz/corpus/session (written by make_session_seeds): small sessions
// that every panel codec accepts. tests/core/io/tst_fuzz_regressions rebuilds its findings
// from the same seeds the fuzzer mutated.
#pragma once
#include <string>

#include "attnscope/session.h"
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
    s.panels["heads"] = encodeHeadScores({1, 2, 3, 3, "entropy", {1, 2}, {.5f, .5f}, {0, 1}, {.1f, .2f}});
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

}  // namespace attnscope::fuzz
