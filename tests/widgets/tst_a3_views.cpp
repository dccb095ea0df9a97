// The A^3 panel's view adapters against the definitions they show: the gain map is baseline
// minus A^3 cell by cell, row KL exists for QK only, and the KV bytes per token follow the
// reference's arithmetic (shared/reference/weibull-and-quantization.md §G.4: 2·L·H_kv·d·b
// in full, L·H_kv·(r_qk + r_vo)·b reduced) and core's a3KvBytesPerToken.
#include <QtTest>

#include <cmath>

#include "attnscope/error.h"
#include "models/a3_views.h"
#include "panels/a3_panel.h"
#include "plot/matrix_plot.h"
#include "synthetic_session.h"

using namespace attnscope;
using namespace attnscope::widgets;

class TestA3Views : public QObject {
    Q_OBJECT
private slots:
    void gainIsBaselineMinusA3() {
        const A3Result r = sessiontest::syntheticA3();
        for (A3Metric m : kAllA3Metrics)
            for (size_t f = 0; f < r.fractions.size(); ++f) {
                const Matrix2D a = a3LayerMap(r, f, m, A3MapMode::A3), b = a3LayerMap(r, f, m, A3MapMode::Baseline),
                               g = a3LayerMap(r, f, m, A3MapMode::Gain);
                QCOMPARE(a.rows, int64_t(r.nLayers));
                QCOMPARE(a.cols, int64_t(kA3Components));
                for (int64_t l = 0; l < a.rows; ++l)
                    for (int c = 0; c < kA3Components; ++c) {
                        const A3Component comp = kAllA3Components[size_t(c)];
                        if (!a3MetricApplies(m, comp)) {
                            QVERIFY(std::isnan(a.at(l, c)) && std::isnan(g.at(l, c)));
                            continue;
                        }
                        const A3Point& p = r.layers[size_t(l)].of(comp)[f];
                        QCOMPARE(a.at(l, c), float(a3Value(p, m, false)));
                        QCOMPARE(g.at(l, c), float(a3Value(p, m, true) - a3Value(p, m, false)));
                        QCOMPARE(b.at(l, c) - a.at(l, c), g.at(l, c));
                    }
            }
        QVERIFY(a3MetricApplies(A3Metric::RowKl, A3Component::QK));
        QVERIFY(!a3MetricApplies(A3Metric::RowKl, A3Component::OV));
        QVERIFY(!a3MetricApplies(A3Metric::RowKl, A3Component::MLP));
    }

    void kvBytesFollowTheReference() {
        const A3Result r = sessiontest::syntheticA3();
        for (int b : {1, 2, 4})
            for (size_t f = 0; f < r.fractions.size(); ++f) {
                const A3Savings s = a3Savings(r, f, b);
                const int rqk = r.layers[0].qk[f].r, rvo = r.layers[0].ov[f].r;
                QCOMPARE(s.kvFullK + s.kvFullV, int64_t(2) * r.nLayers * r.nKvHeads * r.headDim * b);
                QCOMPARE(s.kvK + s.kvV, int64_t(r.nLayers) * r.nKvHeads * (rqk + rvo) * b);
                QCOMPARE(s.kvK + s.kvV, a3KvBytesPerToken(r.nLayers, r.nKvHeads, rqk, rvo, b));
                QCOMPARE(s.kvFullK + s.kvFullV, a3KvBytesPerToken(r.nLayers, r.nKvHeads, r.headDim, r.headDim, b));
                int64_t mlp = 0;
                for (const A3Layer& l : r.layers) mlp += l.mlp[f].paramsSaved;
                QCOMPARE(s.paramsSaved[2], mlp);
                // FLOPs per token at T: 2 per removed weight, and 2·H·(d − r)·T for the QK scores
                // and the OV weighted sum.
                const int64_t T = 100;
                int64_t flops = 0;
                for (const A3Layer& l : r.layers)
                    flops += 2 * (l.qk[f].paramsSaved + l.ov[f].paramsSaved + l.mlp[f].paramsSaved) +
                             2 * int64_t(r.nHeads) * (2 * r.headDim - l.qk[f].r - l.ov[f].r) * T;
                QCOMPARE(a3FlopsSavedPerToken(r, f, T), flops);
            }
        // At full rank nothing is saved.
        const A3Savings full = a3Savings(r, r.fractions.size() - 1);
        QCOMPARE(full.kvK + full.kvV, full.kvFullK + full.kvFullV);
        QCOMPARE(full.paramsSaved[0] + full.paramsSaved[1] + full.paramsSaved[2], int64_t(0));
    }

    void metricKeysRoundTrip() {
        for (A3Metric m : kAllA3Metrics) QCOMPARE(a3MetricFromKey(a3MetricKey(m)), m);
        QVERIFY_THROWS_EXCEPTION(Error, a3MetricFromKey(QStringLiteral("loss")));
        for (A3Component c : kAllA3Components) QCOMPARE(parseA3Component(a3ComponentName(c)), c);
    }

    void warningsNameTheShortCalibration() {
        A3Result r = sessiontest::syntheticA3();
        r.calibTokens = 20;  // < d_ff 32 with the refit on
        QVERIFY(a3CalibrationWarning(r).contains(QLatin1String("refit")));
        r.params.refit = false;
        QVERIFY(!a3CalibrationWarning(r).contains(QLatin1String("refit")));
        r.calibTokens = 4;  // < head dim 8
        QVERIFY(a3CalibrationWarning(r).contains(QLatin1String("singular")));
    }

    // The end-to-end controls name the profile the core builds (a3ProfileFrom's options).
    void endToEndControlsNameTheProfile() {
        A3Panel panel;
        panel.setResult(sessiontest::syntheticA3());
        panel.setView(0, A3Component::QK, 1, A3Metric::HeldOut, A3MapMode::A3);
        QCOMPARE(panel.endToEndProfile(), (QStringList{"--a3-apply", "0.5", "--a3-apply-components", "qk,ov,mlp"}));
        panel.setLayerRanks(QStringLiteral("0.5, 0.25,1,0.75"));
        QCOMPARE(panel.endToEndProfile(),
                 (QStringList{"--a3-apply-layers", "0.5,0.25,1,0.75", "--a3-apply-components", "qk,ov,mlp"}));
    }

    void panelShowsTheChosenRankAndCell() {
        const A3Result r = sessiontest::syntheticA3();
        A3Panel panel;
        panel.resize(600, 900);
        panel.setResult(r);
        panel.setView(2, A3Component::OV, 1, A3Metric::HeldOut, A3MapMode::A3);
        QCOMPARE(panel.layer(), 2);
        QCOMPARE(panel.component(), A3Component::OV);
        QCOMPARE(panel.fractionIndex(), size_t(1));
        const Matrix2D& shown = panel.layerMap()->matrix();
        QCOMPARE(shown.at(2, 1), float(r.layers[2].ov[1].heldOut));
        QCOMPARE(panel.layerMap()->currentRow(), 2);
        QCOMPARE(panel.layerMap()->currentColumn(), 1);
        // A new result of the same model keeps the rank the user looked at.
        A3Result finer = r;
        finer.fractions = {0.125, 0.25, 0.5, 0.75, 1.0};
        for (A3Layer& l : finer.layers)
            for (auto* pts : {&l.qk, &l.ov, &l.mlp}) pts->insert(pts->begin(), pts->front());
        panel.setResult(finer);
        QCOMPARE(finer.fractions[panel.fractionIndex()], 0.5);
    }
};

QTEST_MAIN(TestA3Views)
#include "tst_a3_views.moc"
