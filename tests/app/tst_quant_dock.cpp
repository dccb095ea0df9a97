// The quantization dock in the real main window (attnscope_app), offscreen, on the built-in
// model: for every matrix, method and a few ranks, the panel's tables hold the errors that
// calibrate + one ReconLab per matrix give when called here directly on a separately
// opened model with the same prompt; changing the bits recomputes in the background.
#include <cmath>

#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

#include "analysis_docks.h"
#include "attnscope/analyses/quant.h"
#include "attnscope/model.h"
#include "main_window.h"
#include "model_locator.h"
#include "panels/quant_panel.h"
#include "plot/matrix_plot.h"
#include "quant_dock.h"

using namespace attnscope;
using attnscope::app::MainWindow;

namespace {

const QString kPrompt = QStringLiteral(
    "It is a way I have of driving off the spleen and regulating the circulation. Whenever I find myself "
    "growing grim about the mouth; whenever it is a damp, drizzly November in my soul, then I account it "
    "high time to get to sea as soon as I can.");
const QString kModelDir = QStringLiteral(ATTNSCOPE_TEST_DATA_DIR "/../../resources/models/attnscope-tiny");

// The reference: core called directly, the way the issue defines the lab (calibrate on the
// prompt, quantize, one ReconLab per matrix).
std::vector<ReconLab> referenceLabs(const WeightQuantParams& q, int64_t& tokens) {
    OpenOptions o;
    o.path = kModelDir.toStdString();
    auto model = Model::open(o);
    const std::vector<int32_t> ids = model->tokenize(kPrompt.toStdString(), true);
    const Calibration calib = calibrate(*model, {ids}, CalibParams{});
    tokens = calib.tokens;
    std::vector<ReconLab> labs;
    for (const QuantMatrix& m : quantMatrices(*model)) {
        const Matrix2D w = quantMatrixWeight(*model, m);
        const Matrix2D wq{w.rows, w.cols, fakeQuantize(w.data.data(), w.rows, w.cols, q)};
        labs.emplace_back(w, wq, calib.of(m.layer, m.input));
    }
    return labs;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 + 1e-6 * std::abs(b); }

}  // namespace

class TestQuantDock : public QObject {
    Q_OBJECT
private slots:
    void init() {
        m_window = std::make_unique<MainWindow>(false);
        m_window->resize(1400, 900);
        m_window->show();
        m_shown = std::make_unique<QSignalSpy>(m_window.get(), &MainWindow::panelShown);
        m_window->showPanel(QStringLiteral("quant"));
        m_window->setPromptText(kPrompt);
        m_window->openModel({kModelDir, {}});  // runs the prompt once loaded
    }
    void cleanup() {
        m_shown.reset();
        m_window.reset();
    }

    void panelShowsWhatCoreComputes() {
        QVERIFY(waitForQuant());
        widgets::QuantPanel* panel = m_window->analysisDocks()->quantDock()->quantPanel();
        const widgets::QuantLabView& lab = panel->lab();
        int64_t tokens = 0;
        const std::vector<ReconLab> ref = referenceLabs(panel->weightParams(), tokens);
        QCOMPARE(lab.calibTokens, tokens);
        QCOMPARE(lab.matrices.size(), ref.size());
        QVERIFY(!ref.empty());
        for (size_t i = 0; i < ref.size(); ++i) {
            for (auto kind : {widgets::QuantErrorKind::Weight, widgets::QuantErrorKind::Output}) {
                const bool w = kind == widgets::QuantErrorKind::Weight;
                const ErrorAt q = ref[i].quantOnly();
                QVERIFY(close(widgets::quantError(lab, i, ReconMethod::None, 0, kind), w ? q.weightRelErr : q.outputRelErr));
                for (ReconMethod m : kReconMethods)
                    for (int r : {0, 1, 8, 32, ref[i].maxRank()}) {
                        const ErrorAt e = ref[i].at(m, r);
                        QVERIFY2(close(widgets::quantError(lab, i, m, r, kind), w ? e.weightRelErr : e.outputRelErr),
                                 qPrintable(QStringLiteral("%1 %2 rank %3").arg(QString::fromStdString(lab.matrices[i].name))
                                                .arg(widgets::reconMethodLabel(m)).arg(r)));
                    }
            }
        }
        // What is drawn: the curve of the selected matrix and the bars at the slider's rank.
        panel->selectMatrix(3);
        panel->setRank(8);
        QCPGraph* exact = nullptr;
        for (int g = 0; g < panel->curvesPlot()->graphCount(); ++g)
            if (panel->curvesPlot()->graph(g)->name() == QStringLiteral("QERA-exact")) exact = panel->curvesPlot()->graph(g);
        QVERIFY(exact);
        QVERIFY(close(exact->data()->at(8)->value, ref[3].at(ReconMethod::QeraExact, 8).outputRelErr));
        const int layer = lab.matrices[3].layer;
        double sum = 0;
        int n = 0;
        for (size_t i = 0; i < ref.size(); ++i)
            if (lab.matrices[i].layer == layer) sum += ref[i].at(ReconMethod::QeraExact, 8).outputRelErr, ++n;
        QVERIFY(close(panel->bars(1)->data()->at(layer)->value, sum / n));
        // The KV side arrived too: one row per layer, one column per token.
        QCOMPARE(int(panel->tokenMap()->matrix().cols), int(tokens));
        QVERIFY(panel->headMap()->matrix().rows == tokens);
    }

    void changingBitsRecomputesInTheBackground() {
        QVERIFY(waitForQuant());
        widgets::QuantPanel* panel = m_window->analysisDocks()->quantDock()->quantPanel();
        const double before = widgets::quantError(panel->lab(), 0, ReconMethod::None, 0, widgets::QuantErrorKind::Weight);
        panel->findChild<QSpinBox*>(QStringLiteral("bits"))->setValue(3);
        QTRY_COMPARE_WITH_TIMEOUT(panel->lab().quant.bits, 3, 120000);
        int64_t tokens = 0;
        const std::vector<ReconLab> ref = referenceLabs(panel->weightParams(), tokens);
        const double after = widgets::quantError(panel->lab(), 0, ReconMethod::None, 0, widgets::QuantErrorKind::Weight);
        QVERIFY(close(after, ref[0].quantOnly().weightRelErr));
        QVERIFY(after > before);  // 3 bits lose more than 4
    }

private:
    bool waitForQuant() {
        for (int i = 0; i < 240; ++i) {
            for (const QList<QVariant>& args : *m_shown)
                if (args.at(0).toString() == QStringLiteral("quant")) return true;
            m_shown->wait(500);
        }
        return false;
    }

    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<QSignalSpy> m_shown;
};

QTEST_MAIN(TestQuantDock)
#include "tst_quant_dock.moc"
