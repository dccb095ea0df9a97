// A small session with every built-in panel's section, built with the core codecs from
// synthetic data (causal attention rows that sum to one, two sinks, Weibull fits on a line):
// for the registry and window tests, which need no model.
#pragma once
#include <cmath>
#include <random>

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
    s.panels["heads"] = encodeHeadScores({kL, kH, kT, kT, "first_token", uniform(n, 0, 2, 1), uniform(n, 0, 1, 2),
                                          uniform(n, 0, 1, 3), uniform(n, 0, 1, 4)});
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
    return s;
}

}  // namespace sessiontest
