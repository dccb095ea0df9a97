// The tiled two-pass statistics against the explicitly materialized attention matrix,
// computed here in plain double precision (no torch): column sums, causal means, row
// entropy, windowed sums, with block sizes that do not divide T, GQA and sliding windows.
#include <QtTest>

#include <cmath>
#include <random>

#include "attnscope/attention_stats.h"
#include "attnscope/error.h"
#include "attnscope/model.h"
#include "test_models.h"

using namespace attnscope;

namespace {

struct Reference {
    std::vector<std::vector<double>> colSum, colMean, entropy, winSum;
};

// Materializes A row by row for every head: A[i,j] = softmax_j(q_i.k_j * scale), causal,
// optional window (i - j < W).
Reference materialize(const std::vector<float>& q, const std::vector<float>& k, const AttentionShape& s,
                      int64_t minQueryPos, int64_t windowLast) {
    const int64_t T = s.T, d = s.headDim, G = s.nHeads / s.nKvHeads;
    Reference r;
    r.colSum.assign(size_t(s.nHeads), std::vector<double>(size_t(T)));
    r.colMean = r.entropy = r.winSum = r.colSum;
    std::vector<double> row(static_cast<size_t>(T));
    for (int h = 0; h < s.nHeads; ++h) {
        const int g = h / int(G);
        std::vector<double> count(static_cast<size_t>(T));
        for (int64_t i = 0; i < T; ++i) {
            const int64_t lo = s.window > 0 ? std::max<int64_t>(0, i - s.window + 1) : 0;
            double mx = -1e300;
            for (int64_t j = lo; j <= i; ++j) {
                double dot = 0;
                for (int64_t c = 0; c < d; ++c)
                    dot += double(q[size_t((i * s.nHeads + h) * d + c)]) * double(k[size_t((j * s.nKvHeads + g) * d + c)]);
                row[size_t(j)] = dot * s.scale;
                mx = std::max(mx, row[size_t(j)]);
            }
            double z = 0;
            for (int64_t j = lo; j <= i; ++j) z += std::exp(row[size_t(j)] - mx);
            double ent = 0;
            for (int64_t j = lo; j <= i; ++j) {
                const double p = std::exp(row[size_t(j)] - mx) / z;
                r.colSum[size_t(h)][size_t(j)] += p;
                if (i >= minQueryPos) { r.colMean[size_t(h)][size_t(j)] += p; count[size_t(j)] += 1; }
                if (windowLast > 0 && i >= T - windowLast) r.winSum[size_t(h)][size_t(j)] += p;
                if (p > 0) ent -= p * std::log(p);
            }
            r.entropy[size_t(h)][size_t(i)] = ent;
        }
        for (int64_t j = 0; j < T; ++j)
            r.colMean[size_t(h)][size_t(j)] = count[size_t(j)] > 0 ? r.colMean[size_t(h)][size_t(j)] / count[size_t(j)] : 0;
    }
    return r;
}

// T tokens, heads of dimension 8 at the usual logit scale 1/√8; GQA where nKvHeads < nHeads.
AttentionShape shapeOf(int64_t T, int nHeads, int nKvHeads, int64_t window = 0) {
    return {.T = T, .nHeads = nHeads, .nKvHeads = nKvHeads, .headDim = 8, .scale = float(1.0 / std::sqrt(8.0)),
            .window = window};
}

double maxErr(const std::vector<float>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return 1e9;
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
    return m;
}

}  // namespace

class TestAttentionStats : public QObject {
    Q_OBJECT
private slots:
    void blockwiseEqualsMaterialized_data();
    void blockwiseEqualsMaterialized();
    void traceStatsAndOverviewEqualTiles();
    void requestedStopCancels();
};

void TestAttentionStats::blockwiseEqualsMaterialized_data() {
    QTest::addColumn<qlonglong>("T");
    QTest::addColumn<qlonglong>("blockQ");
    QTest::addColumn<qlonglong>("blockK");
    QTest::addColumn<qlonglong>("window");
    QTest::addColumn<qlonglong>("minQueryPos");
    QTest::newRow("T1000 causal") << 1000LL << 96LL << 130LL << 0LL << 0LL;
    QTest::newRow("T1000 mqp32 window") << 1000LL << 128LL << 77LL << 300LL << 32LL;
    QTest::newRow("T4100 causal") << 4100LL << 256LL << 300LL << 0LL << 16LL;
}

void TestAttentionStats::blockwiseEqualsMaterialized() {
    QFETCH(qlonglong, T);
    QFETCH(qlonglong, blockQ);
    QFETCH(qlonglong, blockK);
    QFETCH(qlonglong, window);
    QFETCH(qlonglong, minQueryPos);
    const AttentionShape s = shapeOf(T, 4, 2, window);
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.f, 1.5f);  // peaked rows, like real heads
    std::vector<float> q(size_t(T * s.nHeads * s.headDim)), k(size_t(T * s.nKvHeads * s.headDim));
    for (float& x : q) x = nd(rng);
    for (float& x : k) x = nd(rng);
    // A sink-like key: key 0 aligned with every query's mean direction.
    for (int c = 0; c < s.headDim; ++c) k[size_t(c)] = 4.f;

    StatsOptions o;
    o.blockQ = blockQ;
    o.blockK = blockK;
    o.minQueryPos = minQueryPos;
    o.windowLast = 50;
    const auto got = computeAttentionStats(q, k, s, o);
    const Reference ref = materialize(q, k, s, minQueryPos, 50);
    QCOMPARE(int(got.size()), s.nHeads);
    for (int h = 0; h < s.nHeads; ++h) {
        const double e1 = maxErr(got[size_t(h)].colSum, ref.colSum[size_t(h)]);
        const double e2 = maxErr(got[size_t(h)].colMeanCausal, ref.colMean[size_t(h)]);
        const double e3 = maxErr(got[size_t(h)].entropy, ref.entropy[size_t(h)]);
        const double e4 = maxErr(got[size_t(h)].windowSum, ref.winSum[size_t(h)]);
        // Column sums grow with T (key 0 collects ~T * p); compare relative to scale there.
        const double sumScale = std::max(1.0, *std::max_element(ref.colSum[size_t(h)].begin(), ref.colSum[size_t(h)].end()));
        QVERIFY2(e1 / sumScale <= 1e-5, qPrintable(QString("col_sum head %1 err %2 (scale %3)").arg(h).arg(e1).arg(sumScale)));
        QVERIFY2(e2 <= 1e-5, qPrintable(QString("col_mean head %1 err %2").arg(h).arg(e2)));
        QVERIFY2(e3 <= 1e-4, qPrintable(QString("entropy head %1 err %2").arg(h).arg(e3)));
        QVERIFY2(e4 <= 1e-5, qPrintable(QString("window_sum head %1 err %2").arg(h).arg(e4)));
    }
}

void TestAttentionStats::traceStatsAndOverviewEqualTiles() {
    // On a real model: the trace's statistics and pooled overview equal what the full
    // tile gives when summed / pooled here.
    auto model = testmodels::openFixture("mistral");  // GQA + sliding window
    std::vector<int32_t> ids;
    for (int i = 0; i < 150; ++i) ids.push_back((i * 37 + 11) % 256);
    auto trace = model->run(ids);
    const int64_t T = trace->length();
    StatsOptions so;
    so.blockQ = 33;
    so.blockK = 40;
    for (int l = 0; l < trace->nLayers(); ++l) {
        const auto stats = trace->layerStats(l, so);
        for (int h = 0; h < trace->nHeads(); ++h) {
            const Matrix2D a = trace->attentionTile(l, h, 0, T, 0, T);
            std::vector<double> cs(static_cast<size_t>(T));
            for (int64_t i = 0; i < T; ++i)
                for (int64_t j = 0; j < T; ++j) cs[size_t(j)] += a.at(i, j);
            QVERIFY(maxErr(stats[size_t(h)].colSum, cs) <= 1e-5);
            // Rows are distributions.
            for (int64_t i = 0; i < T; ++i) {
                double rs = 0;
                for (int64_t j = 0; j < T; ++j) rs += a.at(i, j);
                QVERIFY(std::abs(rs - 1.0) < 1e-5);
            }
        }
        // Overview: 150 x 150 pooled to 7 x 11 cells (uneven), max and mean of head 1.
        const Matrix2D a = trace->attentionTile(l, 1, 0, T, 0, T);
        for (Pool pool : {Pool::Max, Pool::Mean}) {
            const Matrix2D ov = trace->overview(l, 1, 0, T, 0, T, 7, 11, pool);
            QCOMPARE(ov.rows, 7LL);
            QCOMPARE(ov.cols, 11LL);
            for (int r = 0; r < 7; ++r)
                for (int c = 0; c < 11; ++c) {
                    double mx = 0, sum = 0, n = 0;
                    for (int64_t i = 0; i < T; ++i)
                        for (int64_t j = 0; j < T; ++j)
                            if (i * 7 / T == r && j * 11 / T == c) {
                                mx = std::max(mx, double(a.at(i, j)));
                                sum += a.at(i, j);
                                n += 1;
                            }
                    const double want = pool == Pool::Max ? mx : sum / n;
                    QVERIFY(std::abs(ov.at(r, c) - want) <= 1e-6);
                }
        }
    }
}

// A stop requested before (or while) the CPU statistics run ends them with Cancelled; an
// unrequested token changes nothing.
void TestAttentionStats::requestedStopCancels() {
    const AttentionShape s = shapeOf(300, 2, 1);
    std::vector<float> q(size_t(s.T * s.nHeads * s.headDim), 0.5f), k(size_t(s.T * s.nKvHeads * s.headDim), 0.25f);
    StatsOptions o;
    std::stop_source source;
    o.job.stop = source.get_token();
    const auto ok = computeAttentionStats(q, k, s, o);
    double harmonic = 0;  // equal logits: row i gives each of its i + 1 keys 1/(i+1)
    for (int64_t i = 0; i < s.T; ++i) harmonic += 1.0 / double(i + 1);
    QCOMPARE(ok[0].colSum[0], float(harmonic));
    source.request_stop();
    try {
        computeAttentionStats(q, k, s, o);
        QFAIL("no Cancelled error");
    } catch (const Error& e) {
        QCOMPARE(int(e.kind()), int(ErrorKind::Cancelled));
    }
}

QTEST_APPLESS_MAIN(TestAttentionStats)
#include "tst_attention_stats.moc"
