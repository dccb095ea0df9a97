// The quantization panel's per-head score-error maps and the GPU benchmark's helpers,
// against references computed here: |q·(k̂ − k)|/√d from the dequantized cache of
// fakeQuantizeKv on the trace's own q/k/v; K-smoothing alone leaves every logit unchanged
// (softmax invariance with the row bias added back, reference §3.5); Gaussian calibration
// statistics satisfy E|x| = √(2/π)·√E[x²]; ReconLab refuses devices it cannot use.
#include <cmath>

#include <QTest>

#include "attnscope/analyses/quant.h"
#include "attnscope/error.h"
#include "attnscope/model.h"
#include "attnscope/trace.h"

using namespace attnscope;

namespace {

constexpr int kLayer = 2, kHead = 5, kTokens = 80;

std::unique_ptr<Model> defaultModel() {
    return Model::open({QStringLiteral(ATTNSCOPE_TEST_DATA_DIR "/../../resources/models/attnscope-tiny").toStdString(), "",
                        Device::CPU, DType::F32});
}

std::vector<int32_t> promptIds(Model& m) {
    std::vector<int32_t> ids = m.tokenize(
        "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and "
        "nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of "
        "the world. It is a way I have of driving off the spleen and regulating the circulation.",
        true);
    ids.resize(std::min<size_t>(ids.size(), kTokens));
    return ids;
}

QkvTensors layerTensors(const Trace& t, int layer) {
    QkvTensors x;
    x.T = t.length();
    x.nHeads = t.nHeads();
    x.nKvHeads = t.nKvHeads();
    x.headDim = t.headDim();
    x.q = t.captured(Capture::Q, layer).data;
    x.k = t.captured(Capture::K, layer).data;
    x.v = t.captured(Capture::V, layer).data;
    return x;
}

// |q·(k̂ − k)|/√d against kvScoreErrorMap, KIVI 2-bit with most keys quantized.
void kvMapCheck(const Trace& trace) {
    KvQuantParams p;
    p.method = KvMethod::Kivi;
    p.bits = 2;
    p.group = 16;
    p.residual = 16;  // most keys quantized (a multiple of the group)
    const QkvTensors x = layerTensors(trace, kLayer);
    const KvQuantized q = fakeQuantizeKv(x, p);
    const Matrix2D map = kvScoreErrorMap(trace, kLayer, kHead, p);
    const int64_t T = x.T;
    const int d = x.headDim, g = kHead / (x.nHeads / x.nKvHeads), wK = x.nKvHeads * d, wQ = x.nHeads * d;
    QCOMPARE(map.rows, T);
    QCOMPARE(map.cols, T);
    double maxErr = 0, maxRef = 0;
    for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < T; ++j) {
            if (j > i) {
                QVERIFY(std::isnan(map.at(i, j)));
                continue;
            }
            double diff = 0;
            for (int c = 0; c < d; ++c)
                diff += double(x.q[size_t(i * wQ + kHead * d + c)]) *
                        (double(q.k[size_t(j * wK + g * d + c)]) - double(x.k[size_t(j * wK + g * d + c)]));
            const double want = std::abs(diff) / std::sqrt(double(d));
            maxRef = std::max(maxRef, want);
            maxErr = std::max(maxErr, std::abs(double(map.at(i, j)) - want));
        }
    QVERIFY(maxRef > 1e-3);  // the 2-bit keys do move the logits
    QVERIFY2(maxErr <= 1e-4 * std::max(1.0, maxRef), qPrintable(QString::number(maxErr)));
}

}  // namespace

class TestQuantMaps : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        m_model = defaultModel();
        m_trace = m_model->run(promptIds(*m_model));
        QVERIFY(m_trace->length() > 40);
    }

    void kvMapIsTheLogitErrorOfTheQuantizedKeys() {
        try {
            kvMapCheck(*m_trace);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
    }

    void smoothingAloneLeavesTheLogits() {
        ScoreQuantParams p;
        p.bits = 0;  // no quantization: K − k̄ with q·k̄ added back is S itself
        p.smoothK = true;
        const Matrix2D exact = scoreQuantErrorMap(*m_trace, kLayer, kHead, p);
        double maxAbs = 0;
        for (int64_t i = 0; i < exact.rows; ++i)
            for (int64_t j = 0; j <= i; ++j) maxAbs = std::max(maxAbs, double(exact.at(i, j)));
        QVERIFY2(maxAbs < 1e-4, qPrintable(QString::number(maxAbs)));
        p.bits = 4;
        const Matrix2D int4 = scoreQuantErrorMap(*m_trace, kLayer, kHead, p);
        double sum = 0;
        for (int64_t i = 0; i < int4.rows; ++i)
            for (int64_t j = 0; j <= i; ++j) sum += int4.at(i, j);
        QVERIFY(sum > 0);
        QVERIFY(std::isnan(int4.at(0, 1)));
    }

    void badRequestsAreRefused() {
        KvQuantParams p;
        QVERIFY_THROWS_EXCEPTION(Error, kvScoreErrorMap(*m_trace, m_trace->nLayers(), 0, p));
        QVERIFY_THROWS_EXCEPTION(Error, kvScoreErrorMap(*m_trace, 0, m_trace->nHeads(), p));
        Matrix2D w{4, 4, std::vector<float>(16, 0.5f)};
        InputStats s = syntheticInputStats(4, 64, 1);
        ReconParams rp;
        rp.device = "tpu";
        QVERIFY_THROWS_EXCEPTION(Error, ReconLab(w, w, s, rp));
        if (!cudaAvailable()) {
            rp.device = "cuda";
            QVERIFY_THROWS_EXCEPTION(Error, ReconLab(w, w, s, rp));
            QVERIFY_THROWS_EXCEPTION(Error, syntheticInputStats(4, 64, 1, "cuda"));
        }
    }

    void syntheticStatisticsAreGaussianMoments() {
        const int64_t n = 12, N = 20000;
        const InputStats s = syntheticInputStats(n, N, 7);
        QCOMPARE(s.dim, n);
        QCOMPARE(s.tokens, double(N));
        QCOMPARE(s.r.size(), size_t(n * n));
        const double k = std::sqrt(2.0 / M_PI);
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t j = 0; j < n; ++j) QCOMPARE(s.r[size_t(i * n + j)], s.r[size_t(j * n + i)]);
            const double sigma = std::sqrt(s.r[size_t(i * n + i)]);
            QVERIFY2(std::abs(s.meanAbs[size_t(i)] / (k * sigma) - 1.0) < 0.03, qPrintable(QString::number(i)));
            // Independent channels: correlations near 0 (|ρ| ~ 1/√N).
            for (int64_t j = 0; j < i; ++j)
                QVERIFY(std::abs(s.r[size_t(i * n + j)]) / (sigma * std::sqrt(s.r[size_t(j * n + j)])) < 0.05);
        }
        QCOMPARE(syntheticInputStats(n, 100, 3).r, syntheticInputStats(n, 100, 3).r);  // seeded
    }

private:
    std::unique_ptr<Model> m_model;
    std::unique_ptr<Trace> m_trace;
};

QTEST_MAIN(TestQuantMaps)
#include "tst_quant_maps.moc"
