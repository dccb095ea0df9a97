// What `attnscope --screenshot` waits for (ScreenshotGate), on the real main window and
// stories260K: when the gate opens after a run, the head overview grid is already filled —
// every layer x head cell, each "mass on first token" equal to the mean over queries of
// P[i][0] computed here from the trace's q and k, each thumbnail equal to those
// probabilities (a prompt shorter than a thumbnail) — and the grid on screen is not blank.
#include <algorithm>
#include <cmath>

#include <QImage>
#include <QSet>
#include <QSignalSpy>
#include <QTest>

#include "analysis_docks.h"
#include "app_window_support.h"
#include "main_window.h"
#include "metatypes.h"
#include "panels/attention_maps_panel.h"
#include "panels/head_grid_panel.h"
#include "plot/matrix_plot.h"
#include "screenshot_gate.h"
#include "token_strip.h"

using namespace attnscope;
using attnscope::app::MainWindow;
using attnscope::app::ScreenshotGate;

namespace {
const QString kPrompt = QStringLiteral("Once upon a time, there was a little girl named Lily. She loved to play.");
}

class TestScreenshotGate : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        APPTEST_REQUIRE_STORIES();
    }

    void headGridFilledWhenGateOpens() {
        auto model = apptest::openStories();
        const int L = model->info().nLayers, H = model->info().nHeads;
        apptest::ReferenceAttention ref(*model, kPrompt.toStdString());
        const int64_t T = ref.length();

        MainWindow w(/*interactive=*/false);
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setPromptText(kPrompt);
        auto* gate = new ScreenshotGate(&w);
        QCOMPARE(gate->waiting(), 2);  // the map and the head grid
        QSignalSpy opened(gate, &ScreenshotGate::opened);
        QSignalSpy view(&w, &MainWindow::viewShown);
        w.openModel(apptest::storiesRequest());
        QVERIFY(opened.wait(120000));
        QVERIFY(gate->isOpen());
        QCOMPARE(view.count(), 1);  // the gate waited for the map too

        // Checked at once, as the screenshot's grab would see it (no further event processing).
        widgets::HeadGridPanel* heads = w.analysisDocks()->headGridPanel();
        heads->setScoreView("first_token");
        const Matrix2D& grid = heads->grid()->matrix();
        QCOMPARE(grid.rows, int64_t(L));
        QCOMPARE(grid.cols, int64_t(H));
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) {
                const std::vector<double> p = ref.probabilities(l, h);
                double first = 0;
                for (int64_t i = 0; i < T; ++i) first += p[size_t(i * T)];
                first /= double(T);
                QVERIFY2(std::abs(grid.at(l, h) - first) <= 1e-5,
                         qPrintable(QStringLiteral("layer %1 head %2: %3 vs %4").arg(l).arg(h).arg(grid.at(l, h)).arg(first)));
            }
        // The thumbnails: every head's, a prompt shorter than the thumbnail's cells gives the
        // exact probabilities; the image is grey sqrt(p / max), clear above the diagonal.
        QCOMPARE(heads->thumbnailCount(), L * H);
        QVERIFY(T <= 32);
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) {
                const Matrix2D& thumb = heads->scores().thumbnails[size_t(l * H + h)];
                QCOMPARE(thumb.rows, T);
                QCOMPARE(thumb.cols, T);
                const std::vector<double> p = ref.probabilities(l, h);
                double top = 0;
                for (size_t i = 0; i < p.size(); ++i) {
                    QVERIFY(std::abs(thumb.data[i] - p[i]) <= 1e-5);
                    top = std::max(top, p[i]);
                }
                if (l != 3 || h != 5) continue;
                const QImage image = widgets::HeadGridPanel::thumbnailImage(thumb);
                QCOMPARE(image.size(), QSize(int(T), int(T)));
                for (int64_t i = 0; i < T; ++i)
                    for (int64_t j = 0; j < T; ++j) {
                        const QRgb px = image.pixel(int(j), int(i));
                        if (j > i) {
                            QCOMPARE(qAlpha(px), 0);
                            continue;
                        }
                        QCOMPARE(qAlpha(px), 255);
                        QVERIFY(std::abs(qRed(px) - 255.0 * std::sqrt(p[size_t(i * T + j)] / top)) <= 1.01);
                    }
            }

        // Drawn: the grid's pixels hold many colours (an empty plot is background and axes).
        const QImage image = heads->grid()->grab().toImage();
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 3)
            for (int x = 0; x < image.width(); x += 3) colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 2 * H, qPrintable(QStringLiteral("%1 colours").arg(colours.size())));
    }

    void countsPanelAndZoom() {
        MainWindow w(/*interactive=*/false);
        QCOMPARE(ScreenshotGate(&w, QStringLiteral("heads")).waiting(), 2);       // map + heads
        QCOMPARE(ScreenshotGate(&w, QStringLiteral("sinks"), 2).waiting(), 4);    // map + heads + 2 sinks
        QCOMPARE(ScreenshotGate(&w, QString(), 1, /*zoomed=*/true).waiting(), 3);  // map + heads + tile
    }
};

QTEST_MAIN(TestScreenshotGate)
#include "tst_screenshot_gate.moc"
