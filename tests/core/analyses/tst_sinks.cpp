// The sinks analysis against independent references: sink scores and head fractions from
// attention matrices materialized here (the trace's exact tiles, and Hugging Face's own
// attentions for the fixture), hidden-state geometry from HF's hidden states, and hand-built
// traces whose classes, levels and onset/offset are known by construction.
#include <QtTest>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "attnscope/analyses/sinks.h"
#include "attnscope/error.h"
#include "attnscope/model.h"
#include "fixture_ref.h"
#include "test_models.h"
#include "test_paths.h"

using namespace attnscope;

namespace {

// What a fake trace captured besides the attention means: nothing (the attention-only
// fallback), hidden states, or hidden states and MLP outputs; all zero until set.
enum class Captured { Attention, Hidden, HiddenAndMlp };

// A trace built by hand: per-head causal means and per-layer hidden states / MLP outputs.
class FakeTrace : public Trace {
public:
    FakeTrace(int64_t T, int L, int H, int64_t D, Captured captured = Captured::Attention)
        : m_T(T), m_L(L), m_H(H), m_D(D) {
        m_ids.resize(size_t(T));
        for (int64_t t = 0; t < T; ++t) m_ids[size_t(t)] = int32_t(t + 1);
        alpha.assign(size_t(L), std::vector<std::vector<float>>(size_t(H), std::vector<float>(size_t(T), 0.01f)));
        const Matrix2D zeros{T, D, std::vector<float>(size_t(T * D))};
        if (captured != Captured::Attention) hidden.assign(size_t(L), zeros);
        if (captured == Captured::HiddenAndMlp) mlp.assign(size_t(L), zeros);
    }
    float* h(int l, int64_t t) { return hidden[size_t(l)].data.data() + t * m_D; }
    float* y(int l, int64_t t) { return mlp[size_t(l)].data.data() + t * m_D; }

    int64_t length() const override { return m_T; }
    int nLayers() const override { return m_L; }
    int nHeads() const override { return m_H; }
    int nKvHeads() const override { return m_H; }
    int headDim() const override { return 4; }
    const std::vector<int32_t>& ids() const override { return m_ids; }
    Matrix2D logits() const override { fail(ErrorKind::NotFound, "fake"); }
    Matrix2D captured(Capture what, int l) const override {
        const auto& v = what == Capture::ResidOut ? hidden : what == Capture::MlpOut ? mlp : empty;
        if (v.empty()) fail(ErrorKind::NotFound, "dropped");
        return v[size_t(l)];
    }
    Matrix2D attentionTile(int, int, int64_t, int64_t, int64_t, int64_t) const override {
        fail(ErrorKind::Unsupported, "fake");
    }
    std::vector<HeadStats> layerStats(int l, const StatsOptions&) const override {
        std::vector<HeadStats> s(static_cast<size_t>(m_H));
        for (int hd = 0; hd < m_H; ++hd) s[size_t(hd)].colMeanCausal = alpha[size_t(l)][size_t(hd)];
        return s;
    }
    Matrix2D overview(int, int, int64_t, int64_t, int64_t, int64_t, int, int, Pool) const override {
        fail(ErrorKind::Unsupported, "fake");
    }
    int64_t memoryBytes() const override { return 0; }

    std::vector<std::vector<std::vector<float>>> alpha;  // [L][H][T]
    std::vector<Matrix2D> hidden, mlp, empty;             // [L] of [T, D]

private:
    int64_t m_T;
    int m_L, m_H;
    int64_t m_D;
    std::vector<int32_t> m_ids;
};

const SinkToken* findSink(const SinkResult& r, int64_t t) {
    for (const SinkToken& s : r.sinks)
        if (s.token == t) return &s;
    return nullptr;
}

// Sink score and head fraction of every (layer, token) from full T x T matrices A[l][h]
// (rows = queries): α_j = Σ_{i >= max(j, P)} A_ij / (T − max(j, P)).
struct Materialized {
    std::vector<std::vector<double>> score, frac;  // [L][T]
    int borderline = 0;                            // α within 1e-5 of ε: fraction not compared
};
template <class At>
Materialized materialize(int L, int H, int64_t T, int64_t P, double eps, At at) {
    Materialized m;
    m.score.assign(size_t(L), std::vector<double>(size_t(T)));
    m.frac = m.score;
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h)
            for (int64_t j = 0; j < T; ++j) {
                const int64_t i0 = std::max(j, P);
                double col = 0;
                for (int64_t i = i0; i < T; ++i) col += at(l, h, i, j);
                const double a = col / double(T - i0);
                m.score[size_t(l)][size_t(j)] += a / H;
                m.frac[size_t(l)][size_t(j)] += (a > eps ? 1.0 : 0.0) / H;
                if (std::abs(a - eps) < 1e-5) m.borderline++;
            }
    return m;
}

void compareLayers(const SinkResult& r, const Materialized& m, int64_t T) {
    for (int l = 0; l < r.nLayers; ++l)
        for (int64_t j = 0; j < T; ++j) {
            const double es = std::abs(r.layers[size_t(l)].sinkScore[size_t(j)] - m.score[size_t(l)][size_t(j)]);
            QVERIFY2(es <= 1e-5, qPrintable(QString("layer %1 token %2 score err %3").arg(l).arg(j).arg(es)));
            if (m.borderline) continue;
            const double ef = std::abs(r.layers[size_t(l)].fracHeads[size_t(j)] - m.frac[size_t(l)][size_t(j)]);
            QVERIFY2(ef <= 1e-5, qPrintable(QString("layer %1 token %2 frac err %3").arg(l).arg(j).arg(ef)));
        }
}

// ~200 tokens of llama2.c's own sample, BOS first.
std::vector<int32_t> storiesPrompt(const Model& m) { return testmodels::dataPrompt(m, "stories260K_greedy.txt", 200); }

}  // namespace

class TestSinks : public QObject {
    Q_OBJECT
private slots:
    void scoresEqualMaterialized_data();
    void scoresEqualMaterialized();
    void fixtureMatchesTransformers();
    void constructedSecondaryAndNoise();
    void onsetOffsetRule();
    void attentionOnlyFallback();
    void stories260KPrimarySink();
    void recomputeNeededAndErrors();
    void fitLineKnownAnswer() {
        const LinearFit f = fitLine({1, 2, 3, 4}, {3, 5, 7, 9});
        QCOMPARE(f.n, 4);
        QVERIFY(std::abs(f.slope - 2) < 1e-12 && std::abs(f.intercept - 1) < 1e-12 && std::abs(f.r - 1) < 1e-12);
        const LinearFit g = fitLine({1, 2, 3}, {1, 0, 1});
        QVERIFY(std::abs(g.r) < 1e-12);
    }
    void reclassifyIsFast();
};

void TestSinks::scoresEqualMaterialized_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<qlonglong>("minQueryPos");
    QTest::addColumn<double>("epsilon");
    QTest::newRow("stories260K") << "stories260K" << 0LL << 0.3;
    QTest::newRow("stories260K mqp16 eps0.1") << "stories260K" << 16LL << 0.1;
    QTest::newRow("qwen2") << "qwen2" << 0LL << 0.3;
    QTest::newRow("qwen2 mqp3 eps0.2") << "qwen2" << 3LL << 0.2;
}

void TestSinks::scoresEqualMaterialized() {
    QFETCH(QString, model);
    QFETCH(qlonglong, minQueryPos);
    QFETCH(double, epsilon);
    std::unique_ptr<Model> m;
    std::vector<int32_t> ids;
    if (model == "stories260K") {
        const QString dir = testpaths::stories260K();
        if (dir.isEmpty()) QSKIP("../shared/models/stories260K is absent");
        m = testmodels::openStories(dir);
        ids = storiesPrompt(*m);
        QVERIFY(ids.size() >= 150);
    } else {
        m = testmodels::openFixture("qwen2");
        ids = fixture::ids(*io::SafetensorsFile::open(testpaths::data("models/qwen2/ref.safetensors").toStdString()));
    }
    auto trace = m->run(ids);
    const int64_t T = trace->length();
    const int L = trace->nLayers(), H = trace->nHeads();
    std::vector<Matrix2D> tiles;  // [L * H] full T x T probabilities
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) tiles.push_back(trace->attentionTile(l, h, 0, T, 0, T));
    const Materialized ref = materialize(L, H, T, minQueryPos, epsilon, [&](int l, int h, int64_t i, int64_t j) {
        return double(tiles[size_t(l * H + h)].at(i, j));
    });
    SinkParams p;
    p.epsilon = epsilon;
    p.minQueryPos = minQueryPos;
    const SinkResult r = classifySinks(computeSinkInputs(*trace, minQueryPos), p);
    QCOMPARE(int(r.layers.size()), L);
    compareLayers(r, ref, T);
    QCOMPARE(ref.borderline, 0);
}

void TestSinks::fixtureMatchesTransformers() {
    // HF's own attentions and hidden states (eager, f32): scores, norms and cosines.
    const std::string dir = testpaths::data("models/qwen2").toStdString();
    auto refFile = io::SafetensorsFile::open(dir + "/ref.safetensors");
    const auto ids = fixture::ids(*refFile);
    const auto attn = fixture::floats(*refFile, "attentions");     // [L, H, T, T]
    const auto hs = fixture::floats(*refFile, "hidden_states");    // [L+1, T, D], last post-norm
    auto m = testmodels::openPath(dir);
    auto trace = m->run(ids);
    const int L = int(attn.shape[0]), H = int(attn.shape[1]);
    const int64_t T = attn.shape[2], D = hs.shape[2];
    const Materialized ref = materialize(L, H, T, 2, 0.3, [&](int l, int h, int64_t i, int64_t j) {
        return double(attn.data[size_t(((int64_t(l) * H + h) * T + i) * T + j)]);
    });
    SinkParams p;
    p.minQueryPos = 2;
    p.sinkClipper = false;
    const SinkResult r = classifySinks(computeSinkInputs(*trace, 2), p);
    compareLayers(r, ref, T);
    // Hidden states: HF hidden_states[l + 1] is the output of layer l, except the last (final norm).
    for (int l = 0; l + 1 < L; ++l) {
        const float* x = hs.data.data() + (l + 1) * T * D;
        const float* x0 = x + r.primary * D;
        for (int64_t t = 0; t < T; ++t) {
            double nt = 0, n0 = 0, dot = 0;
            for (int64_t c = 0; c < D; ++c) {
                nt += double(x[t * D + c]) * x[t * D + c];
                n0 += double(x0[c]) * x0[c];
                dot += double(x[t * D + c]) * x0[c];
            }
            QVERIFY(std::abs(r.layers[size_t(l)].hiddenNorm[size_t(t)] - std::sqrt(nt)) <= 1e-4 * (1 + std::sqrt(nt)));
            QVERIFY(std::abs(r.layers[size_t(l)].cosToPrimary[size_t(t)] - dot / std::sqrt(nt * n0)) <= 1e-5);
        }
    }
    // MLP outputs: norms and cosines recomputed here from the captured down projection.
    for (int l = 0; l < L; ++l) {
        const Matrix2D y = trace->captured(Capture::MlpOut, l);
        for (int64_t t = 0; t < T; ++t) {
            double nt = 0, n0 = 0, dot = 0;
            for (int64_t c = 0; c < y.cols; ++c) {
                nt += double(y.at(t, c)) * y.at(t, c);
                n0 += double(y.at(r.primary, c)) * y.at(r.primary, c);
                dot += double(y.at(t, c)) * y.at(r.primary, c);
            }
            QVERIFY(std::abs(r.layers[size_t(l)].mlpNorm[size_t(t)] - std::sqrt(nt)) <= 1e-5 * (1 + std::sqrt(nt)));
            QVERIFY(std::abs(r.layers[size_t(l)].mlpCosToPrimary[size_t(t)] - dot / std::sqrt(nt * n0)) <= 1e-5);
        }
    }
}

void TestSinks::constructedSecondaryAndNoise() {
    // L = 24 (official rule: secondary iff 4 < λ < 9). BOS norm 1 → 200 at layer 2 → 5 at
    // layer 20, so the range is [2, 20). Other tokens live in dims 1..7 at ~0.1 scale.
    const int L = 24, H = 2;
    const int64_t T = 16, D = 8;
    FakeTrace tr(T, L, H, D, Captured::HiddenAndMlp);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(0.05f, 0.15f);
    for (int l = 0; l < L; ++l) {
        tr.h(l, 0)[0] = l < 2 ? 1.f : l < 20 ? 200.f : 5.f;
        for (int64_t t = 1; t < T; ++t)
            for (int64_t c = 1; c < D; ++c) tr.h(l, t)[c] = u(rng);
        for (int64_t t = 0; t < T; ++t) tr.y(l, t)[1 + t % 7] = 1.f;  // MLP outputs orthogonal to BOS's
        tr.y(l, 0)[0] = 2.f;
        tr.alpha[size_t(l)][0][0] = l >= 8 && l <= 12 ? 0.25f : 0.8f;  // the primary weakens in 8..12
        tr.alpha[size_t(l)][1][0] = 0.2f;
    }
    for (int l = 3; l <= 7; ++l) {  // token 5: parallel to BOS in layers 3..7 only
        tr.h(l, 5)[0] = 30.f;
        for (int hd = 0; hd < H; ++hd) tr.alpha[size_t(l)][size_t(hd)][5] = 0.1f;
    }
    tr.y(3, 5)[0] = 7.f;  // its MLP output at the creation layer: along BOS's, norm ~7
    for (int l : {10, 11}) tr.h(l, 9)[0] = 5.f;        // token 9: aligned in 2 layers → noise
    for (int l = 12; l <= 17; ++l) tr.h(l, 11)[0] = -5.f;  // token 11: anti-parallel (|cos|) → secondary
    for (int l : {0, 1, 21, 22}) tr.h(l, 13)[0] = 5.f;     // token 13: only outside [2, 20) → not a sink
    for (int l = 5; l <= 12; ++l) {                        // token 7: cos ~0.85, under 0.9
        std::fill(tr.h(l, 7) + 1, tr.h(l, 7) + D, 0.f);
        tr.h(l, 7)[0] = 0.85f;
        tr.h(l, 7)[1] = std::sqrt(1.f - 0.85f * 0.85f);
    }

    const SinkInputs in = computeSinkInputs(tr, 0);
    SinkParams p;
    p.rule = SinkRule::Official;
    const SinkResult r = classifySinks(in, p);
    QCOMPARE(r.source, SinkSource::Hidden);
    QCOMPARE(r.primary, 0LL);
    QCOMPARE(r.onset, 2);
    QCOMPARE(r.offset, 20);
    QCOMPARE(int(r.sinks.size()), 4);  // tokens 0, 5, 9, 11

    struct Want {
        int64_t token;
        SinkClass cls;
        int lifetime;
    };
    for (const Want& w : {Want{0, SinkClass::Primary, 18}, Want{5, SinkClass::Secondary, 5},
                          Want{9, SinkClass::Noise, 2}, Want{11, SinkClass::Secondary, 6}}) {
        const SinkToken* s = findSink(r, w.token);
        QVERIFY2(s, qPrintable(QString("token %1 is no sink").arg(w.token)));
        QCOMPARE(s->cls, w.cls);
        QCOMPARE(s->lifetime, w.lifetime);
    }
    QCOMPARE(findSink(r, 11)->creationLayer, 12);
    const SinkToken* s5 = findSink(r, 5);
    QCOMPARE(s5->creationLayer, 3);
    QCOMPARE(s5->maxRun, 5);
    QVERIFY(std::abs(s5->meanScore - 0.1f) < 1e-6);
    QVERIFY(std::abs(s5->mlpNormAtCreation - std::sqrt(49.f + 1.f)) < 1e-5);
    QVERIFY(std::abs(s5->mlpCosAtCreation - 14.f / (std::sqrt(50.f) * std::sqrt(5.f))) < 1e-5);
    QVERIFY(!findSink(r, 13));
    QVERIFY(!findSink(r, 7));

    // Per layer: primary strength 0.5 (heads 0.8 and 0.2), 0.225 in 8..12 → weakening 0.55;
    // head fraction of BOS 1/2, 0 in 8..12; creations at 3 and 12; massive only BOS in [2, 20).
    for (int l = 0; l < L; ++l) {
        const SinkLayer& y = r.layers[size_t(l)];
        const bool weak = l >= 8 && l <= 12;
        QVERIFY(std::abs(y.primaryStrength - (weak ? 0.225f : 0.5f)) < 1e-6);
        QVERIFY(std::abs(y.weakening - (weak ? 0.55f : 0.f)) < 1e-6);
        QCOMPARE(y.fracHeads[0], weak ? 0.f : 0.5f);
        QCOMPARE(y.secondaryCreated, l == 3 || l == 12 ? 1 : 0);
        for (int64_t t = 0; t < T; ++t) QCOMPARE(bool(y.massive[size_t(t)]), t == 0 && l >= 2 && l < 20);
    }
    // Levels: (2,18) primary, (3,5) and (12,6) secondary, (10,2) noise; one token each.
    QCOMPARE(int(r.levels.size()), 4);
    const int want[4][2] = {{2, 18}, {3, 5}, {10, 2}, {12, 6}};
    for (int i = 0; i < 4; ++i) {
        QCOMPARE(r.levels[size_t(i)].creationLayer, want[i][0]);
        QCOMPARE(r.levels[size_t(i)].lifetime, want[i][1]);
        QCOMPARE(r.levels[size_t(i)].count, 1);
    }

    // Re-classification only: a 0.8 cosine threshold picks up token 7 (layers 5..12).
    p.cosThreshold = 0.8;
    const SinkResult reclassified = classifySinks(in, p);  // kept alive: s7 points into it
    const SinkToken* s7 = findSink(reclassified, 7);
    QVERIFY(s7);
    QCOMPARE(s7->creationLayer, 5);
    QCOMPARE(s7->lifetime, 8);
    QCOMPARE(s7->cls, SinkClass::Secondary);
}

void TestSinks::onsetOffsetRule() {
    // b = ||h_p0||: Δ = [0,-50,2,2,56,1,1,-2,-1,-49,-1]. argmax Δ = 4 → l_on = 5; argmin over
    // l >= 5 is Δ^9 → l_off = 10 (the larger drop Δ^1 lies before the onset).
    const std::vector<float> b = {60, 60, 10, 12, 14, 70, 71, 72, 70, 69, 20, 19};
    FakeTrace tr(6, int(b.size()), 1, 4, Captured::Hidden);
    for (int l = 0; l < int(b.size()); ++l) {
        tr.h(l, 0)[0] = b[size_t(l)];
        for (int64_t t = 1; t < 6; ++t) tr.h(l, t)[1] = 1.f;
    }
    SinkParams p;
    SinkResult r = classifySinks(computeSinkInputs(tr, 0), p);
    QCOMPARE(r.onset, 5);
    QCOMPARE(r.offset, 10);
    QCOMPARE(r.primaryNorm[7], 72.f);
    p.sinkClipper = false;
    r = classifySinks(computeSinkInputs(tr, 0), p);
    QCOMPARE(r.onset, 0);
    QCOMPARE(r.offset, 12);

    // The largest jump into the last layer: nothing follows, the range runs to the end.
    FakeTrace last(4, 6, 1, 4, Captured::Hidden);
    for (int l = 0; l < 6; ++l) last.h(l, 0)[0] = l == 5 ? 50.f : 1.f;
    r = classifySinks(computeSinkInputs(last, 0), SinkParams{});
    QCOMPARE(r.onset, 5);
    QCOMPARE(r.offset, 6);
}

void TestSinks::attentionOnlyFallback() {
    // No hidden states: d^l_t = s^l_t > max(0.05, 20 · median) = 0.2 over all layers.
    const int L = 24;
    const int64_t T = 32;
    FakeTrace tr(T, L, 2, 4);
    for (int l = 0; l < L; ++l)
        for (int hd = 0; hd < 2; ++hd) {
            tr.alpha[size_t(l)][size_t(hd)][0] = 0.6f;
            if (l >= 3 && l <= 7) tr.alpha[size_t(l)][size_t(hd)][9] = 0.3f;
            if (l <= 1) tr.alpha[size_t(l)][size_t(hd)][20] = 0.3f;
        }
    const SinkInputs in = computeSinkInputs(tr, 0);
    QVERIFY(!in.hasHidden());
    QVERIFY(!in.hasMlp());
    SinkParams p;
    const SinkResult r = classifySinks(in, p);
    QCOMPARE(r.source, SinkSource::Attention);
    QCOMPARE(r.rule, SinkRule::Official);
    QCOMPARE(r.primary, 0LL);
    QCOMPARE(r.onset, 0);
    QCOMPARE(r.offset, L);
    QCOMPARE(int(r.sinks.size()), 3);
    QCOMPARE(findSink(r, 0)->cls, SinkClass::Primary);
    QCOMPARE(findSink(r, 9)->cls, SinkClass::Secondary);
    QCOMPARE(findSink(r, 9)->creationLayer, 3);
    QCOMPARE(findSink(r, 9)->lifetime, 5);
    QCOMPARE(findSink(r, 20)->cls, SinkClass::Noise);
    p.source = SinkSource::Hidden;
    QVERIFY_THROWS_EXCEPTION(Error, classifySinks(in, p));
}

void TestSinks::stories260KPrimarySink() {
    // Measured (200 tokens): BOS has the largest ||h|| in layers 0-3 (1.4-2.3x the median)
    // but is no attention sink: α_BOS ~ 0.02 (about the uniform share ln T / T), no head
    // above ε = 0.3, no massive activation. So BOS is "primary" by the hidden-state rule
    // (Wong et al.), not by attention (Gu et al.); the numbers are printed below.
    const QString dir = testpaths::stories260K();
    if (dir.isEmpty()) QSKIP("../shared/models/stories260K is absent");
    auto m = testmodels::openStories(dir);
    const std::vector<int32_t> ids = storiesPrompt(*m);
    QCOMPARE(ids[0], 1);  // BOS
    auto trace = m->run(ids);
    SinkParams p;
    p.rule = SinkRule::Relative;
    const SinkResult r = classifySinks(computeSinkInputs(*trace, 0), p);
    for (int l = 0; l < r.nLayers; ++l) {
        const SinkLayer& y = r.layers[size_t(l)];
        std::vector<float> n = y.hiddenNorm;
        std::nth_element(n.begin(), n.begin() + long(n.size() / 2), n.end());
        qInfo("layer %d: s(BOS) %.3f frac(BOS) %.3f ||h_BOS|| %.2f median ||h|| %.2f massive(BOS) %d "
              "max s over t>0 %.3f", l, y.sinkScore[0], y.fracHeads[0], y.hiddenNorm[0], n[n.size() / 2],
              int(y.massive[0]), *std::max_element(y.sinkScore.begin() + 1, y.sinkScore.end()));
    }
    qInfo("T %lld: p0 %lld, range [%d, %d), %d primary, %d secondary, %d noise", (long long)r.T,
          (long long)r.primary, r.onset, r.offset, r.count(SinkClass::Primary), r.count(SinkClass::Secondary),
          r.count(SinkClass::Noise));
    // p0 and the range from norms of the captured residual stream, computed here.
    std::vector<double> b, b1;
    for (int l = 0; l < r.nLayers; ++l) {
        const Matrix2D h = trace->captured(Capture::ResidOut, l);
        double n0 = 0, n1 = 0;
        for (int64_t c = 0; c < h.cols; ++c) n0 += double(h.at(0, c)) * h.at(0, c), n1 += double(h.at(1, c)) * h.at(1, c);
        b.push_back(std::sqrt(n0));
        b1.push_back(std::sqrt(n1));
    }
    const bool bosLarger = std::accumulate(b.begin(), b.end(), 0.0) > std::accumulate(b1.begin(), b1.end(), 0.0);
    QCOMPARE(r.primary, bosLarger ? 0LL : 1LL);
    QCOMPARE(r.primary, 0LL);
    int on = 0, off = 0;
    for (int l = 1; l + 1 < r.nLayers; ++l)
        if (b[size_t(l + 1)] - b[size_t(l)] > b[size_t(on + 1)] - b[size_t(on)]) on = l;
    off = ++on;
    for (int l = on; l + 1 < r.nLayers; ++l)
        if (b[size_t(l + 1)] - b[size_t(l)] < b[size_t(off + 1)] - b[size_t(off)]) off = l;
    QCOMPARE(r.onset, on);
    QCOMPARE(r.offset, on < r.nLayers - 1 ? off + 1 : r.nLayers);
    const SinkToken* bos = findSink(r, 0);
    QVERIFY(bos);
    QCOMPARE(bos->cls, SinkClass::Primary);
    QCOMPARE(bos->creationLayer, r.onset);
    QCOMPARE(bos->lifetime, r.offset - r.onset);
}

void TestSinks::recomputeNeededAndErrors() {
    FakeTrace tr(8, 3, 1, 4, Captured::Hidden);
    for (int l = 0; l < 3; ++l) tr.h(l, 0)[0] = 1.f + l;
    SinkInputOptions o;
    o.references = {0};
    const SinkInputs in = computeSinkInputs(tr, 2, o);
    SinkParams p;
    p.minQueryPos = 2;
    p.bosCandidates = {0};
    QVERIFY(!needsRecompute(in, p));
    p.bosCandidates = {0, 1};  // position 1 has no prepared cosines
    QVERIFY(needsRecompute(in, p));
    QVERIFY_THROWS_EXCEPTION(Error, classifySinks(in, p));
    p.bosCandidates = {0};
    p.minQueryPos = 0;
    QVERIFY(needsRecompute(in, p));
    QVERIFY_THROWS_EXCEPTION(Error, computeSinkInputs(tr, 8));
    std::stop_source stop;
    stop.request_stop();
    o.job.stop = stop.get_token();
    QVERIFY_THROWS_EXCEPTION(Error, computeSinkInputs(tr, 0, o));
}

void TestSinks::reclassifyIsFast() {
    // The panel's budget: ≤ 50 ms per parameter edit at 1K tokens (32 layers x 32 heads).
    const int L = 32, H = 32;
    const int64_t T = 1024, D = 64;
    FakeTrace tr(T, L, H, D, Captured::HiddenAndMlp);
    std::mt19937 rng(5);
    std::normal_distribution<float> nd;
    for (int l = 0; l < L; ++l) {
        for (float& v : tr.hidden[size_t(l)].data) v = nd(rng);
        for (float& v : tr.mlp[size_t(l)].data) v = nd(rng);
        for (auto& head : tr.alpha[size_t(l)])
            for (float& a : head) a = std::abs(nd(rng)) * 0.2f;
    }
    const SinkInputs in = computeSinkInputs(tr, 0);
    SinkParams p;
    std::vector<double> ms;
    for (int i = 0; i < 7; ++i) {
        p.epsilon = 0.1 + 0.05 * i;
        const auto t0 = std::chrono::steady_clock::now();
        const SinkResult r = classifySinks(in, p);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        QCOMPARE(int(r.layers.size()), L);
    }
    std::sort(ms.begin(), ms.end());
    qInfo("classifySinks, T=1024 L=32 H=32: median %.2f ms", ms[3]);
    QVERIFY2(ms[3] <= 50.0, qPrintable(QString("median %1 ms").arg(ms[3])));
}

QTEST_APPLESS_MAIN(TestSinks)
#include "tst_sinks.moc"
