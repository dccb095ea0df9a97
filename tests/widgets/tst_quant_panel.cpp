// The quantization panel draws exactly the tables it is given (built here by hand from a
// closed-form error e(matrix, method, rank); no core, no torch): per-layer bars of two
// methods, every method's error-versus-rank curve, the rank slider's redraw, the KV token
// map with sinks marked and the per-head score-error map.
#include <cmath>

#include <QComboBox>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTest>

#include "models/quant_views.h"
#include "panels/quant_panel.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"

using namespace attnscope;
using namespace attnscope::widgets;

namespace {

constexpr int kLayers = 3;
const char* const kComponents[] = {"q", "down"};

// The reference errors: decreasing in rank, distinct per matrix and method.
double curveValue(int matrix, ReconMethod m, int rank, bool output) {
    return (output ? 1.0 : 0.5) * (0.2 + 0.01 * matrix) / (1.0 + int(m) * 0.1 * rank);
}
double quantOnlyValue(int matrix, bool output) { return (output ? 1.0 : 0.5) * (0.2 + 0.01 * matrix); }
int maxRankOf(int matrix) { return matrix % 2 == 0 ? 8 : 4; }  // q 8 x 8, down 4 wide

QuantLabView lab() {
    QuantLabView v;
    v.quant.bits = 3;
    for (int l = 0; l < kLayers; ++l)
        for (const char* c : kComponents) {
            const int i = int(v.matrices.size());
            QuantMatrix m;
            m.name = "layers." + std::to_string(l) + "." + c;
            m.layer = l;
            m.component = c;
            m.rows = 8;
            m.cols = maxRankOf(i);
            v.matrices.push_back(m);
            v.quantOnly.push_back({quantOnlyValue(i, false), quantOnlyValue(i, true), 0});
            std::vector<ReconCurve> curves;
            for (ReconMethod method : kReconMethods) {
                ReconCurve cv;
                cv.method = method;
                for (int r = 0; r <= maxRankOf(i); ++r) {
                    cv.weightRelErr.push_back(curveValue(i, method, r, false));
                    cv.outputRelErr.push_back(curveValue(i, method, r, true));
                }
                curves.push_back(cv);
            }
            v.curves.push_back(curves);
        }
    return v;
}

// What a bar must show: the mean over the layer's matrices, computed from the formula.
double expectedBar(int layer, ReconMethod m, int rank, bool output) {
    double sum = 0;
    for (int c = 0; c < 2; ++c) {
        const int i = layer * 2 + c;
        const int r = std::min(rank, maxRankOf(i));
        sum += m == ReconMethod::None ? quantOnlyValue(i, output) : curveValue(i, m, r, output);
    }
    return sum / 2;
}

void checkBars(const QuantPanel& panel, int which, ReconMethod m, int rank, bool output) {
    QCPBars* bars = panel.bars(which);
    QCOMPARE(bars->data()->size(), kLayers);
    for (int l = 0; l < kLayers; ++l) {
        QCOMPARE(bars->data()->at(l)->key, double(l));
        QVERIFY2(std::abs(bars->data()->at(l)->value - expectedBar(l, m, rank, output)) < 1e-12,
                 qPrintable(QStringLiteral("bar %1 layer %2").arg(which).arg(l)));
    }
}

QCPGraph* graphNamed(QCustomPlot* plot, const QString& name) {
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->name() == name) return plot->graph(i);
    return nullptr;
}

}  // namespace

class TestQuantPanel : public QObject {
    Q_OBJECT
private slots:
    void barsShowTwoMethodsPerLayer() {
        QuantPanel panel;
        panel.setLab(lab());
        panel.setMethods(ReconMethod::None, ReconMethod::QeraExact);
        panel.setRank(2);
        checkBars(panel, 0, ReconMethod::None, 2, true);
        checkBars(panel, 1, ReconMethod::QeraExact, 2, true);
        QVERIFY(panel.bars(1)->name().contains(QStringLiteral("QERA-exact")));
        // The weight error and another method pair read other columns of the tables.
        panel.setErrorKind(QuantErrorKind::Weight);
        panel.setMethods(ReconMethod::Lorc, ReconMethod::Lqer);
        checkBars(panel, 0, ReconMethod::Lorc, 2, false);
        checkBars(panel, 1, ReconMethod::Lqer, 2, false);
        QVERIFY(!panel.barsPlot()->yAxis->label().isEmpty());
    }

    void curvesShowEveryMethodOfTheSelectedMatrix() {
        QuantPanel panel;
        panel.setLab(lab());
        panel.selectMatrix(3);  // layer 1, down: ranks 0..4
        QCOMPARE(panel.curvesPlot()->graphCount(), 5);
        for (ReconMethod m : kPanelMethods) {
            QCPGraph* g = graphNamed(panel.curvesPlot(), reconMethodLabel(m));
            QVERIFY(g);
            QCOMPARE(g->data()->size(), maxRankOf(3) + 1);
            for (int r = 0; r <= maxRankOf(3); ++r) {
                const double want = m == ReconMethod::None ? quantOnlyValue(3, true) : curveValue(3, m, r, true);
                QCOMPARE(g->data()->at(r)->key, double(r));
                QVERIFY(std::abs(g->data()->at(r)->value - want) < 1e-12);
            }
        }
        QVERIFY(panel.curvesPlot()->legend->visible());
        QVERIFY(!panel.curvesPlot()->xAxis->label().isEmpty());
        QVERIFY(!panel.curvesPlot()->yAxis->label().isEmpty());
    }

    void rankSliderEmitsAndRedrawsFromTheCurves() {
        QuantPanel panel;
        panel.setLab(lab());
        QCOMPARE(panel.rankSlider()->maximum(), 8);
        QSignalSpy spy(&panel, &QuantPanel::rankChanged);
        for (int r : {5, 0, 8, 1}) {
            panel.rankSlider()->setValue(r);
            QCOMPARE(spy.count(), 1);
            QCOMPARE(spy.takeFirst().at(0).toInt(), r);
            checkBars(panel, 0, ReconMethod::None, r, true);
            checkBars(panel, 1, ReconMethod::QeraExact, r, true);  // down matrices clamp at rank 4
        }
    }

    void opensAtRank32ClampedToTheMatrices() {
        // At rank 0 every reconstruction is RTN, so a fresh lab opens at min(32, largest rank).
        QuantPanel small;
        small.setLab(lab());
        QCOMPARE(small.rank(), 8);
        QuantLabView wide = lab();
        for (ReconCurve& c : wide.curves[0]) {
            c.weightRelErr.resize(65, 0.1);
            c.outputRelErr.resize(65, 0.1);
        }
        QuantPanel panel;
        panel.setLab(wide);
        QCOMPARE(panel.rankSlider()->maximum(), 64);
        QCOMPARE(panel.rank(), 32);
        QVERIFY(panel.bars(1)->name().contains(QStringLiteral("rank 32")));
        panel.setRank(5);
        panel.setLab(wide);  // recomputed tables keep the user's rank
        QCOMPARE(panel.rank(), 5);
        panel.clear();
        panel.setLab(wide);  // a new run opens at the default again
        QCOMPARE(panel.rank(), 32);
    }

    void barClickSelectsThatLayersMatrix() {
        QuantPanel panel;
        panel.resize(900, 700);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setLab(lab());
        panel.selectMatrix(1);  // layer 0, down
        QSignalSpy spy(&panel, &QuantPanel::layerSelected);
        QCPBars* bars = panel.bars(1);
        panel.barsPlot()->replot();
        const QPointF at = bars->dataPixelPosition(2);  // the top of layer 2's bar
        QTest::mouseClick(panel.barsPlot(), Qt::LeftButton, {}, QPoint(int(at.x()), int(at.y()) + 3));
        QVERIFY(spy.count() >= 1);
        QCOMPARE(spy.last().at(0).toInt(), 2);
        QCOMPARE(panel.selectedMatrix(), 5);  // layer 2, down: the component kept
    }

    void weightControlsAskForRecomputation() {
        QuantPanel panel;
        QSignalSpy spy(&panel, &QuantPanel::weightParamsChanged);
        panel.findChild<QSpinBox*>(QStringLiteral("bits"))->setValue(3);
        QCOMPARE(spy.count(), 1);
        const auto p = spy.first().at(0).value<WeightQuantParams>();
        QCOMPARE(p.bits, 3);
    }

    void kvMapsShowTheResultWithSinksMarked() {
        AttnQuantResult r;
        r.method = "kivi";
        r.nLayers = 2;
        r.nHeads = 2;
        r.T = 4;
        r.bitsK = r.bitsV = 2.5;
        r.heads.resize(4);
        for (int l = 0; l < 2; ++l) {
            TokenErrors t;
            for (int j = 0; j < 4; ++j) {
                t.queryOutErr.push_back(float(l * 10 + j));
                t.keyShare.push_back(float(j) / 6.f);
                t.keyRelErr.push_back(0.5f);
                t.valueRelErr.push_back(0.25f);
            }
            r.tokens.push_back(t);
        }
        QuantPanel panel;
        QSignalSpy heads(&panel, &QuantPanel::headMapRequested);
        panel.setKv(r, {QStringLiteral("<s>"), QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}, {0});
        QCOMPARE(heads.count(), 1);  // the selected head's map is asked for under the new result
        const Matrix2D& m = panel.tokenMap()->matrix();
        QCOMPARE(m.rows, 2);
        QCOMPARE(m.cols, 4);
        for (int l = 0; l < 2; ++l)
            for (int j = 0; j < 4; ++j) QCOMPARE(m.at(l, j), float(l * 10 + j));
        QVERIFY(panel.tokenMap()->columnLabel(0).startsWith(QChar(0x2693)));
        QVERIFY(!panel.tokenMap()->columnLabel(1).startsWith(QChar(0x2693)));
        int marks = 0;
        for (int i = 0; i < panel.tokenMap()->itemCount(); ++i) marks += panel.tokenMap()->item(i)->property("sinkMark").toBool();
        QCOMPARE(marks, 1);

        // The head map: shown for the requested head only.
        const int layer = heads.first().at(0).toInt(), head = heads.first().at(1).toInt();
        Matrix2D map{4, 4, std::vector<float>(16, NAN)};
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j <= i; ++j) map.data[size_t(i * 4 + j)] = float(i + j);
        panel.setHeadMap(layer + 1, head, map);  // a stale answer
        QCOMPARE(panel.headMap()->matrix().rows, 0);
        panel.setHeadMap(layer, head, map);
        QCOMPARE(panel.headMap()->matrix().rows, 4);
        QCOMPARE(panel.headMap()->matrix().at(3, 2), 5.f);
        QVERIFY(std::isnan(panel.headMap()->matrix().at(0, 3)));
    }
};


QTEST_MAIN(TestQuantPanel)
#include "tst_quant_panel.moc"
