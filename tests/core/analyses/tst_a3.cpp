// A^3 lab (core/src/analyses/a3): the closed forms against independent references built here
// from the trace's raw q, k and head outputs — Eckart–Young on the all-pairs score matrix and
// on each head's output map (singular values by a plain Jacobi eigen-solver), exactness at
// full rank, the optimum never losing to the weight-only baseline on its own objective, and
// the least-squares refit never losing to the plain column selection.
#include <QtTest>

#include <cmath>
#include <numeric>

#include "analyses/a3/a3_apply.h"
#include "attnscope/analyses/a3.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/model.h"
#include "test_models.h"

using namespace attnscope;

namespace {

constexpr int64_t kCalibRows = 64, kRows = 96;

std::unique_ptr<Model> randomModel(int heads, int kvHeads, uint64_t seed) {
    RandomModelSpec s;
    s.nLayers = 2;
    s.nHeads = heads;
    s.nKvHeads = kvHeads;
    s.headDim = 16;
    s.dModel = 64;
    s.dFF = 96;
    s.seed = seed;
    return Model::random(s);
}

struct Lab {
    std::unique_ptr<Model> model;
    std::unique_ptr<Trace> trace;
    std::shared_ptr<const A3Stats> stats;
};

Lab lab(std::unique_ptr<Model> model, std::vector<int32_t> ids, int64_t calibRows) {
    Lab l{std::move(model), nullptr, nullptr};
    l.trace = l.model->run(ids);  // the default policy keeps every capture
    A3Accumulator acc(*l.model);
    acc.add(*l.trace, 0, calibRows);
    l.stats = acc.finish();
    return l;
}

// Eigenvalues of a symmetric n x n matrix (row-major), cyclic Jacobi rotations.
std::vector<double> eigenvalues(std::vector<double> a, int n) {
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0;
        for (int p = 0; p < n; ++p)
            for (int q = p + 1; q < n; ++q) off += a[size_t(p * n + q)] * a[size_t(p * n + q)];
        if (off < 1e-30) break;
        for (int p = 0; p < n; ++p)
            for (int q = p + 1; q < n; ++q) {
                const double apq = a[size_t(p * n + q)];
                if (std::abs(apq) < 1e-300) continue;
                const double theta = (a[size_t(q * n + q)] - a[size_t(p * n + p)]) / (2 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; ++k) {  // columns p, q
                    const double akp = a[size_t(k * n + p)], akq = a[size_t(k * n + q)];
                    a[size_t(k * n + p)] = c * akp - s * akq;
                    a[size_t(k * n + q)] = s * akp + c * akq;
                }
                for (int k = 0; k < n; ++k) {  // rows p, q
                    const double apk = a[size_t(p * n + k)], aqk = a[size_t(q * n + k)];
                    a[size_t(p * n + k)] = c * apk - s * aqk;
                    a[size_t(q * n + k)] = s * apk + c * aqk;
                }
            }
    }
    std::vector<double> out;
    for (int i = 0; i < n; ++i) out.push_back(a[size_t(i * n + i)]);
    std::sort(out.rbegin(), out.rend());
    return out;
}

// Squared singular values of a rows x cols matrix, descending (eigenvalues of AᵀA).
std::vector<double> singularSquares(const std::vector<double>& a, int rows, int cols) {
    std::vector<double> ata(size_t(cols) * size_t(cols), 0.0);
    for (int i = 0; i < cols; ++i)
        for (int j = 0; j < cols; ++j) {
            double s = 0;
            for (int k = 0; k < rows; ++k) s += a[size_t(k * cols + i)] * a[size_t(k * cols + j)];
            ata[size_t(i * cols + j)] = s;
        }
    return eigenvalues(ata, cols);
}

// (tail beyond r, total) of the squared singular values.
std::pair<double, double> tail(const std::vector<double>& s2, int r) {
    double t = 0, all = 0;
    for (size_t i = 0; i < s2.size(); ++i) {
        all += std::max(0.0, s2[i]);
        if (int(i) >= r) t += std::max(0.0, s2[i]);
    }
    return {t, all};
}

// Eckart–Young for QK: the rows of every query head of a group, stacked, against the group's
// keys — the score matrix [Σ_h n, n] of all calibration pairs — truncated at r.
double qkEckartYoung(const Trace& t, int layer, int r) {
    const Matrix2D q = t.captured(Capture::QPre, layer), k = t.captured(Capture::KPre, layer);
    const int H = t.nHeads(), Hkv = t.nKvHeads(), d = t.headDim(), per = H / Hkv, n = int(kCalibRows);
    double tailSum = 0, total = 0;
    for (int g = 0; g < Hkv; ++g) {
        std::vector<double> s(size_t(per) * n * n);
        for (int hi = 0; hi < per; ++hi)
            for (int i = 0; i < n; ++i)
                for (int j = 0; j < n; ++j) {
                    double dot = 0;
                    for (int a = 0; a < d; ++a) dot += double(q.at(i, (g * per + hi) * d + a)) * k.at(j, g * d + a);
                    s[size_t((hi * n + i) * n + j)] = dot;
                }
        const auto [tl, all] = tail(singularSquares(s, per * n, n), r);
        tailSum += tl;
        total += all;
    }
    return std::sqrt(tailSum / total);
}

// ‖S − Ŝ‖_F / ‖S‖_F of one layer's causal scores q kᵀ (post-RoPE, as traced) over rows
// [row0, T) of two traces, every query head against its group's keys.
double tracedScoreError(const Trace& full, const Trace& cut, int layer, int64_t row0) {
    const Matrix2D q = full.captured(Capture::Q, layer), k = full.captured(Capture::K, layer);
    const Matrix2D q2 = cut.captured(Capture::Q, layer), k2 = cut.captured(Capture::K, layer);
    const int H = full.nHeads(), per = H / full.nKvHeads(), d = full.headDim();
    double err = 0, total = 0;
    for (int h = 0; h < H; ++h)
        for (int64_t i = row0; i < full.length(); ++i)
            for (int64_t j = 0; j <= i; ++j) {
                double s = 0, s2 = 0;
                for (int a = 0; a < d; ++a) {
                    s += double(q.at(i, h * d + a)) * k.at(j, (h / per) * d + a);
                    s2 += double(q2.at(i, h * d + a)) * k2.at(j, (h / per) * d + a);
                }
                err += (s - s2) * (s - s2);
                total += s * s;
            }
    return std::sqrt(err / total);
}

// Eckart–Young for OV with one head per group: each head's output map O_h W_o,hᵀ [n, D].
double ovEckartYoung(const Model& m, const Trace& t, int layer, int r) {
    const Matrix2D o = t.captured(Capture::HeadOut, layer);
    Matrix2D wo;  // [D, H*d] as stored (a random Llama model: o_proj)
    for (const Model::WeightTensorInfo& w : m.weightTensors())
        if (w.layer == layer && w.component == "o") wo = m.weightMatrix(w.name);
    const int H = t.nHeads(), d = t.headDim(), D = int(wo.rows), n = int(kCalibRows);
    double tailSum = 0, total = 0;
    for (int h = 0; h < H; ++h) {
        std::vector<double> y(size_t(n) * D, 0.0);
        for (int i = 0; i < n; ++i)
            for (int c = 0; c < D; ++c) {
                double s = 0;
                for (int a = 0; a < d; ++a) s += double(o.at(i, h * d + a)) * wo.at(c, h * d + a);
                y[size_t(i * D + c)] = s;
            }
        const auto [tl, all] = tail(singularSquares(y, n, D), r);
        tailSum += tl;
        total += all;
    }
    return std::sqrt(tailSum / total);
}

}  // namespace

class TestA3 : public QObject {
    Q_OBJECT
private slots:
    // Full rank changes nothing: every error of every component is 0, in every RoPE mode.
    void fullRankIsExact() {
        for (A3Rope mode : {A3Rope::PreRope, A3Rope::FrequencyPairs, A3Rope::NoRotaryCut}) {
            const Lab l = lab(randomModel(4, 2, 7), testmodels::seededIds(3, int(kRows)), kCalibRows);
            A3Params p;
            p.rope = mode;
            const A3Result res = computeA3(*l.model, *l.stats, *l.trace, kCalibRows, {1.0}, p);
            QCOMPARE(res.layers.size(), size_t(2));
            QCOMPARE(res.heldOutRows, kRows - kCalibRows);
            for (const A3Layer& layer : res.layers)
                for (A3Component c : {A3Component::QK, A3Component::OV, A3Component::MLP}) {
                    const A3Point& pt = layer.of(c).front();
                    QVERIFY2(pt.objective < 1e-6 && pt.heldOut < 1e-6 && pt.rowKl < 1e-9 && pt.weightErr < 1e-6,
                             a3ComponentName(c));
                    QCOMPARE(pt.paramsSaved, int64_t(0));
                }
        }
    }

    // The QK objective at rank r is the Eckart–Young tail of the all-pairs score matrix
    // (stacked over the query heads of a KV group): the closed form is the optimum.
    void qkObjectiveIsEckartYoung() {
        const Lab l = lab(randomModel(4, 2, 11), testmodels::seededIds(5, int(kRows)), kCalibRows);
        A3Params p;
        p.rope = A3Rope::PreRope;
        const std::vector<double> fractions = {0.125, 0.25, 0.5, 0.75};
        const A3Result res = computeA3(*l.model, *l.stats, *l.trace, kCalibRows, fractions, p);
        for (int layer = 0; layer < 2; ++layer)
            for (size_t i = 0; i < fractions.size(); ++i) {
                const A3Point& pt = res.layers[size_t(layer)].qk[i];
                const double want = qkEckartYoung(*l.trace, layer, pt.r);
                QVERIFY2(std::abs(pt.objective - want) < 1e-5 * std::max(1.0, want),
                         qPrintable(QString("layer %1 r %2: %3 vs %4").arg(layer).arg(pt.r).arg(pt.objective).arg(want)));
                QVERIFY(pt.objective <= pt.baselineObjective + 1e-9);
            }
    }

    // One head per group: the OV objective is the Eckart–Young tail of each head's output map.
    void ovObjectiveIsEckartYoung() {
        const Lab l = lab(randomModel(4, 4, 13), testmodels::seededIds(9, int(kRows)), kCalibRows);
        const std::vector<double> fractions = {0.125, 0.25, 0.5};
        const A3Result res = computeA3(*l.model, *l.stats, *l.trace, kCalibRows, fractions);
        for (int layer = 0; layer < 2; ++layer)
            for (size_t i = 0; i < fractions.size(); ++i) {
                const A3Point& pt = res.layers[size_t(layer)].ov[i];
                const double want = ovEckartYoung(*l.model, *l.trace, layer, pt.r);
                QVERIFY2(std::abs(pt.objective - want) < 1e-5 * std::max(1.0, want),
                         qPrintable(QString("layer %1 r %2: %3 vs %4").arg(layer).arg(pt.r).arg(pt.objective).arg(want)));
                QVERIFY(pt.objective <= pt.baselineObjective + 1e-9);
            }
    }

    // On a real trained model (stories260K, GQA): the QK closed form never loses to the plain
    // SVD of W_q W_kᵀ on the objective it minimises, and the refit never loses to plain selection.
    void realModelOrdering() {
        const QString dir = testpaths::stories260K();
        if (dir.isEmpty()) QSKIP("stories260K is not beside the checkout (../shared/models)");
        auto model = testmodels::openStories(dir);
        std::vector<int32_t> ids = model->tokenize(
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. "
            "One day, she saw a big red ball in the park and ran to get it.", true);
        const int64_t calib = int64_t(ids.size()) * 2 / 3;
        const Lab l = lab(std::move(model), ids, calib);
        const std::vector<double> fractions = {0.25, 0.5, 0.75};
        A3Params p;
        p.rope = A3Rope::PreRope;
        const A3Result refit = computeA3(*l.model, *l.stats, *l.trace, calib, fractions, p);
        p.refit = false;
        const A3Result plain = computeA3(*l.model, *l.stats, *l.trace, calib, fractions, p);
        for (int layer = 0; layer < refit.nLayers; ++layer)
            for (size_t i = 0; i < fractions.size(); ++i) {
                const A3Point& qk = refit.layers[size_t(layer)].qk[i];
                QVERIFY(qk.objective <= qk.baselineObjective + 1e-9);
                QVERIFY(qk.objective > 0 && qk.heldOut > 0);
                QVERIFY(refit.layers[size_t(layer)].mlp[i].objective <= plain.layers[size_t(layer)].mlp[i].objective + 1e-9);
            }
    }

    // Frequency pairs keep RoPE exact: whole pairs only (even ranks of a fully rotary head).
    void frequencyPairsKeepWholePairs() {
        const Lab l = lab(randomModel(4, 2, 17), testmodels::seededIds(1, int(kRows)), kCalibRows);
        A3Params p;
        p.rope = A3Rope::FrequencyPairs;
        const A3Result res = computeA3(*l.model, *l.stats, *l.trace, kCalibRows, {0.2, 0.3, 0.5}, p);
        QVERIFY(res.rope);
        for (const A3Point& pt : res.layers.front().qk) QCOMPARE(pt.r % 2, 0);
        for (size_t i = 1; i < res.fractions.size(); ++i)
            QVERIFY(res.layers.front().qk[i].heldOut <= res.layers.front().qk[i - 1].heldOut + 1e-12);
        // A fully rotary head has no dimension outside the rotation: nothing to cut.
        p.rope = A3Rope::NoRotaryCut;
        const A3Result none = computeA3(*l.model, *l.stats, *l.trace, kCalibRows, {0.25}, p);
        QCOMPARE(none.layers.front().qk.front().r, 16);
    }

    // KV bytes per token: 2·L·H_kv·d·b in full, L·H_kv·(r_qk + r_vo)·b reduced.
    void kvBytes() {
        QCOMPARE(a3KvBytesPerToken(16, 8, 64, 64, 2), int64_t(2) * 16 * 8 * 64 * 2);
        QCOMPARE(a3KvBytesPerToken(16, 8, 32, 16, 2), int64_t(16) * 8 * 48 * 2);
    }

    // The session section: decode(encode(x)) encodes to the same bytes; corrupt sections fail.
    void sessionRoundTrip() {
        const Lab l = lab(randomModel(4, 2, 23), testmodels::seededIds(4, int(kRows)), kCalibRows);
        const A3Result res = computeA3(*l.model, *l.stats, *l.trace, kCalibRows, {0.25, 0.5, 1.0});
        const SessionSection s = encodeA3(res);
        const A3Result back = decodeA3(s);
        const SessionSection again = encodeA3(back);
        QCOMPARE(again.params, s.params);
        for (const auto& [name, t] : s.tensors) QVERIFY2(again.tensors.at(name).bytes == t.bytes, name.c_str());
        QCOMPARE(back.layers[1].ov[1].heldOut, res.layers[1].ov[1].heldOut);
        QCOMPARE(back.layers[1].mlp[0].paramsSaved, res.layers[1].mlp[0].paramsSaved);
        auto kind = [](const SessionSection& bad) {
            try {
                decodeA3(bad);
            } catch (const Error& e) {
                return e.kind();
            }
            return ErrorKind::Internal;
        };
        SessionSection bad = s;
        bad.params["fractions"] = {0.25, 0.5};  // the tensors hold three
        QCOMPARE(kind(bad), ErrorKind::BadInput);
        bad = s;
        bad.params["a3_rope"] = "sideways";
        QCOMPARE(kind(bad), ErrorKind::BadInput);
        bad = s;
        std::vector<int32_t> r = s.tensors.at("r").toI32("r");
        r[0] = 1000;
        bad.tensors["r"] = SessionTensor::i32(s.tensors.at("r").shape, r);
        QCOMPARE(kind(bad), ErrorKind::BadInput);
    }

    // End to end at full rank: the reduced model is the model (KL 0, same perplexity, same
    // continuation, every key and value dimension read).
    void endToEndFullRankIsTheModel() {
        Inspector in;
        in.adopt(randomModel(4, 2, 29));
        in.setPromptIds(testmodels::seededIds(5, int(kRows)));
        A3Request req;
        req.fractions = {0.5, 1.0};
        const A3Result r = in.a3(req);
        const A3EndToEnd e = in.a3EndToEnd(req, a3UniformProfile(r, 1.0), 8);
        QVERIFY2(e.kl < 1e-9, qPrintable(QString::number(e.kl)));
        QCOMPARE(e.top1, 1.0);
        QVERIFY(std::abs(e.ppl - e.pplFull) <= 1e-9 * e.pplFull);
        QCOMPARE(e.continuation, e.continuationFull);
        QCOMPARE(int(e.continuation.size()), 8);
        QCOMPARE(e.tokens, kRows - 1 - std::lround(kRows * 0.5));  // the held-out positions only
        for (const auto& dims : e.cacheDims) QCOMPARE(dims, (std::array<int, 2>{16, 16}));
        QCOMPARE(e.kvBytesReduced, e.kvBytesFull);
        QCOMPARE(e.paramsSaved, int64_t(0));
    }

    // The cut written into the weights is the cut the lab scored: a model with only layer 0's
    // QK cut has, in its own forward, the score error the lab predicted for layer 0 (frequency
    // pairs: post-RoPE scores), and reads exactly r dimensions per key and r_vo per value — the
    // cache the KV bytes formula counts.
    void appliedCutsAreTheScoredCuts() {
        auto base = randomModel(4, 2, 31);
        const std::vector<int32_t> ids = testmodels::seededIds(6, int(kRows));
        const Lab l = lab(std::move(base), ids, kCalibRows);
        A3Params p;
        const A3Result res = computeA3(*l.model, *l.stats, *l.trace, kCalibRows, {0.25, 0.5, 1.0}, p);
        for (size_t f : {size_t(0), size_t(1)}) {
            A3Profile prof = a3UniformProfile(res, res.fractions[f]);
            for (size_t layer = 1; layer < prof.ranks.size(); ++layer) prof.ranks[layer] = {16, 16, 96};
            prof.ranks[0][1] = 16, prof.ranks[0][2] = 96;  // QK only
            A3EndToEnd report;
            const auto cut = a3ReducedModel(*l.model, *l.stats, *l.trace, kCalibRows, prof, p, report);
            const auto traced = cut->run(ids);
            const double measured = tracedScoreError(*l.trace, *traced, 0, kCalibRows);
            const double predicted = res.layers[0].qk[f].heldOut;
            QVERIFY2(std::abs(measured - predicted) <= 1e-4 * std::max(1.0, predicted),
                     qPrintable(QString("rank %1: forward %2, lab %3").arg(prof.ranks[0][0]).arg(measured).arg(predicted)));
            QCOMPARE(report.cacheDims[0][0], prof.ranks[0][0]);
            QCOMPARE(report.cacheDims[1][0], 16);
        }
        // OV and QK together, every layer: the dimensions the reduced maps read are the ranks.
        const A3Profile half = a3UniformProfile(res, 0.5);
        A3EndToEnd report;
        a3ReducedModel(*l.model, *l.stats, *l.trace, kCalibRows, half, p, report);
        int64_t measuredBytes = 0;
        for (size_t layer = 0; layer < half.ranks.size(); ++layer) {
            QCOMPARE(report.cacheDims[layer][0], half.ranks[layer][0]);
            QCOMPARE(report.cacheDims[layer][1], half.ranks[layer][1]);
            measuredBytes += int64_t(l.model->info().nKvHeads) * (report.cacheDims[layer][0] + report.cacheDims[layer][1]) * 2;
        }
        QCOMPARE(measuredBytes, a3KvBytesPerToken(2, 2, half.ranks[0][0], half.ranks[0][1], 2));
    }

    // Apply to model: every run sees the reduced weights (the same as the evaluated copy's) until
    // restore gives the original back bit for bit; applying again cuts the original, not a copy.
    void applyAndRestore() {
        Inspector in;
        in.adopt(randomModel(4, 2, 41));
        const std::vector<int32_t> ids = testmodels::seededIds(8, int(kRows));
        in.setPromptIds(ids);
        const Matrix2D before = in.model().run(ids)->captured(Capture::ResidOut, 1);
        A3Request req;
        req.fractions = {0.5, 1.0};
        const A3Result r = in.a3(req);
        const A3Profile half = a3UniformProfile(r, 0.5);
        QVERIFY(in.a3Applied().empty());
        in.a3Apply(req, half);
        QVERIFY(QString::fromStdString(in.a3Applied()).contains("50%"));
        const Matrix2D applied = in.model().run(ids)->captured(Capture::ResidOut, 1);
        QVERIFY(applied.data != before.data);
        QVERIFY(in.hasPrompt());  // the prompt stays; its traces are re-made from the reduced weights
        QCOMPARE(in.trace(viewTracePolicy()).length(), int64_t(ids.size()));
        in.a3Apply(req, half);  // again: from the original weights, so the same reduced model
        QVERIFY(in.model().run(ids)->captured(Capture::ResidOut, 1).data == applied.data);
        in.a3Restore();
        QVERIFY(in.a3Applied().empty());
        QVERIFY(in.model().run(ids)->captured(Capture::ResidOut, 1).data == before.data);
    }

    // Profiles: uniform takes the sweep's ranks; the ε profile the smallest swept rank under ε.
    void profiles() {
        const Lab l = lab(randomModel(4, 2, 37), testmodels::seededIds(7, int(kRows)), kCalibRows);
        const A3Result res = computeA3(*l.model, *l.stats, *l.trace, kCalibRows, {0.25, 0.5, 0.75, 1.0});
        const A3Profile u = a3UniformProfile(res, 0.5);
        QCOMPARE(u.ranks[1][2], res.layers[1].mlp[1].r);
        const A3Profile e = a3ThresholdProfile(res, 0.3);
        for (size_t layer = 0; layer < e.ranks.size(); ++layer)
            for (A3Component c : {A3Component::QK, A3Component::OV, A3Component::MLP}) {
                const int r = e.ranks[layer][size_t(c)];
                for (const A3Point& pt : res.layers[layer].of(c)) {
                    if (pt.r == r) QVERIFY(pt.heldOut <= 0.3 || pt.fraction == 1.0);
                    if (pt.r < r) QVERIFY(pt.heldOut > 0.3);
                }
            }
        QVERIFY_THROWS_EXCEPTION(Error, a3UniformProfile(res, 0.6));
        QVERIFY_THROWS_EXCEPTION(Error, a3LayerProfile(res, {0.5}));
    }

    void badInput() {
        const Lab l = lab(randomModel(4, 2, 19), testmodels::seededIds(2, 40), 20);
        auto kind = [&](auto f) {
            try {
                f();
            } catch (const Error& e) {
                return e.kind();
            }
            return ErrorKind::Internal;
        };
        QCOMPARE(kind([&] { computeA3(*l.model, *l.stats, *l.trace, 20, {1.5}); }), ErrorKind::BadInput);
        QCOMPARE(kind([&] { computeA3(*l.model, *l.stats, *l.trace, 40, {0.5}); }), ErrorKind::BadInput);
        QCOMPARE(kind([&] { computeA3(*l.model, *l.stats, *l.trace, 20, {}); }), ErrorKind::BadInput);
        QCOMPARE(kind([&] { A3Accumulator(*l.model).finish(); }), ErrorKind::BadInput);
        QCOMPARE(kind([] { parseA3Rope("sideways"); }), ErrorKind::BadInput);
    }
};

QTEST_GUILESS_MAIN(TestA3)
#include "tst_a3.moc"
