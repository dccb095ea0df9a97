// The real main window (attnscope_app), offscreen, on stories260K: the heatmap holds the
// attention probabilities computed here from the trace's q and k; keys move layer/head;
// a selected token colours the strip with its row (as query) or column (as key); exports
// parse back as PNG, SVG and PDF.
#include <algorithm>

#include <QAction>
#include <QFile>
#include <QImage>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

#include "app_window_support.h"
#include "main_window.h"
#include "metatypes.h"
#include "panels/attention_maps_panel.h"
#include "plot/attention_heatmap.h"
#include "plot/plot_menu.h"
#include "selection_model.h"
#include "token_strip.h"

using namespace attnscope;
using attnscope::app::MainWindow;
using attnscope::widgets::AttentionHeatmap;
using attnscope::widgets::TokenRole;

namespace {

const QString kPrompt = QStringLiteral("Once upon a time, there was a little girl named Lily. She loved to play.");
constexpr double kTol = 1e-5;

// Largest |heatmap - reference| over the whole map, and whether the colour map's cells
// (what is drawn) hold the same values as the matrix.
double maxDiff(const AttentionHeatmap* map, const std::vector<double>& ref, int64_t T) {
    const Matrix2D& m = map->matrix();
    if (m.rows != T || m.cols != T) return 1e9;
    QCPColorMapData* cells = map->colorMap()->data();
    double worst = 0.0;
    for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < T; ++j) {
            worst = std::max(worst, std::abs(double(m.at(i, j)) - ref[size_t(i * T + j)]));
            worst = std::max(worst, std::abs(cells->cell(int(j), int(i)) - ref[size_t(i * T + j)]));
        }
    return worst;
}

}  // namespace

class TestExplorerWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        APPTEST_REQUIRE_STORIES();
        m_model = apptest::openStories();
        m_ref = std::make_unique<apptest::ReferenceAttention>(*m_model, kPrompt.toStdString());

        m_window = std::make_unique<MainWindow>(/*interactive=*/false);
        m_window->resize(1400, 900);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        m_window->setPromptText(kPrompt);
        m_window->setLayerHead(1, 3);
        QSignalSpy shown(m_window.get(), &MainWindow::viewShown);
        m_window->openModel(apptest::storiesRequest());  // runs the prompt once loaded
        QVERIFY(apptest::waitForView(shown));
    }

    void cleanupTestCase() { m_window.reset(); }

    void heatmapHoldsCoreProbabilities() {
        auto* panel = m_window->attentionPanel();
        const int64_t T = m_ref->length();
        QCOMPARE(panel->tokenStrip()->count(), int(T));
        QCOMPARE(panel->layer(), 1);
        QCOMPARE(panel->head(), 3);
        QVERIFY(panel->heatmap()->isExact());
        QVERIFY2(maxDiff(panel->heatmap(), m_ref->probabilities(1, 3), T) <= kTol, "layer 1 head 3");

        // The mean over heads, another layer.
        QSignalSpy shown(m_window.get(), &MainWindow::viewShown);
        m_window->setLayerHead(4, -1);
        QVERIFY(apptest::waitForView(shown));
        QVERIFY2(maxDiff(panel->heatmap(), m_ref->probabilities(4, -1), T) <= kTol, "layer 4 mean");
    }

    void keysChangeLayerAndHead() {
        auto* panel = m_window->attentionPanel();
        AttentionHeatmap* map = panel->heatmap();
        const int64_t T = m_ref->length();
        m_window->setLayerHead(2, 0);
        m_window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
        map->setFocus();

        struct Step {
            Qt::Key key;
            int layer, head;
        };
        // Arrows on the map: left/right heads, up/down layers; Page Up/Down layers anywhere.
        for (const Step& s : {Step{Qt::Key_Right, 2, 1}, Step{Qt::Key_Left, 2, 0}, Step{Qt::Key_Down, 3, 0},
                              Step{Qt::Key_Up, 2, 0}, Step{Qt::Key_PageDown, 3, 0}, Step{Qt::Key_PageUp, 2, 0},
                              Step{Qt::Key_Left, 2, -1}}) {
            QSignalSpy shown(m_window.get(), &MainWindow::viewShown);
            QTest::keyClick(map, s.key);
            QCOMPARE(panel->layer(), s.layer);
            QCOMPARE(panel->head(), s.head);
            QCOMPARE(m_window->selection()->layer(), s.layer);
            QCOMPARE(m_window->selection()->head(), s.head);
            QVERIFY(apptest::waitForView(shown));
            QTRY_VERIFY(maxDiff(map, m_ref->probabilities(s.layer, s.head), T) <= kTol);
        }
        // Page Down at the last layer stays there.
        m_window->setLayerHead(4, 2);
        QTest::keyClick(map, Qt::Key_PageDown);
        QCOMPARE(panel->layer(), 4);
    }

    void selectedTokenHighlightsItsRowAndColumn() {
        auto* panel = m_window->attentionPanel();
        widgets::TokenStrip* strip = panel->tokenStrip();
        const int64_t T = m_ref->length();
        {
            QSignalSpy shown(m_window.get(), &MainWindow::viewShown);
            m_window->setLayerHead(3, 5);
            QVERIFY(apptest::waitForView(shown));
        }
        const std::vector<double> p = m_ref->probabilities(3, 5);
        const int token = int(T) - 3;

        panel->setTokenRole(TokenRole::Query);
        QTest::mouseClick(strip, Qt::LeftButton, {}, strip->chipRect(token).center());
        QCOMPARE(strip->selectedIndex(), token);
        QCOMPARE(m_window->selection()->token(), token);
        QTRY_COMPARE(strip->highlights().size(), size_t(T));
        for (int64_t j = 0; j < T; ++j)
            QVERIFY(std::abs(strip->highlights()[size_t(j)] - p[size_t(token * T + j)]) <= kTol);
        // The strongest chip is the key the row attends to most.
        const auto& row = strip->highlights();
        const int64_t best = std::max_element(row.begin(), row.end()) - row.begin();
        const auto refRow = p.begin() + token * T;
        QCOMPARE(best, int64_t(std::max_element(refRow, refRow + T) - refRow));

        // As key: the attention every query pays to it; queries before it pay none.
        const int key = 4;
        panel->setTokenRole(TokenRole::Key);
        QTest::mouseClick(strip, Qt::LeftButton, {}, strip->chipRect(key).center());
        QTRY_COMPARE(strip->highlights().size(), size_t(T));
        QTRY_VERIFY(std::abs(strip->highlights()[size_t(key)] - p[size_t(key * T + key)]) <= kTol);
        for (int64_t i = 0; i < T; ++i)
            QVERIFY(std::abs(strip->highlights()[size_t(i)] - p[size_t(i * T + key)]) <= kTol);
        for (int64_t i = 0; i < key; ++i) QCOMPARE(strip->highlights()[size_t(i)], 0.f);

        // A new layer keeps the selection and refreshes its colours for that layer.
        const std::vector<double> p0 = m_ref->probabilities(0, 5);
        QSignalSpy shown(m_window.get(), &MainWindow::viewShown);
        m_window->setLayerHead(0, 5);
        QVERIFY(apptest::waitForView(shown));
        QTRY_VERIFY(std::abs(strip->highlights()[size_t(T - 1)] - p0[size_t((T - 1) * T + key)]) <= kTol);
        panel->setTokenRole(TokenRole::Query);
    }

    void exportsParseBack() {
        QTemporaryDir dir;
        AttentionHeatmap* map = m_window->attentionPanel()->heatmap();
        const QString png = dir.filePath("a.png"), svg = dir.filePath("a.svg"), pdf = dir.filePath("a.pdf");

        QVERIFY(widgets::exportPlot(map, png, 192, QSize(400, 300)));
        QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), QSize(800, 600));  // 192 DPI = twice the logical size
        QCOMPARE(qRound(image.dotsPerMeterX() * 0.0254), 192);
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
        QVERIFY2(colours.size() > 20, "the PNG is not a drawn heatmap");

        QVERIFY(map->exportTo(svg, 400, 300));
        QFile svgFile(svg);
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&svgFile);
        int elements = 0, images = 0;
        QString root;
        while (!xml.atEnd()) {
            if (xml.readNext() != QXmlStreamReader::StartElement) continue;
            if (root.isEmpty()) root = xml.name().toString();
            ++elements;
            if (xml.name() == QLatin1String("image")) ++images;
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QCOMPARE(root, QStringLiteral("svg"));
        QVERIFY(images >= 1);      // the colour map is an embedded bitmap of exact cells
        QVERIFY(elements > 20);    // axes, ticks and labels are vector elements

        QVERIFY(map->exportTo(pdf, 400, 300));
        QFile pdfFile(pdf);
        QVERIFY(pdfFile.open(QIODevice::ReadOnly));
        const QByteArray bytes = pdfFile.readAll();
        QVERIFY(bytes.startsWith("%PDF-1."));
        QVERIFY(bytes.trimmed().endsWith("%%EOF"));
        const auto pages = QRegularExpression(QStringLiteral("/Type\\s*/Page[^s]"))
                               .globalMatch(QString::fromLatin1(bytes));
        int count = 0;
        for (auto it = pages; it.hasNext(); it.next()) ++count;
        QCOMPARE(count, 1);

        QVERIFY(!map->exportTo(dir.filePath("a.bmp"), 400, 300));  // unknown suffix: refused
    }

private:
    std::unique_ptr<Model> m_model;
    std::unique_ptr<apptest::ReferenceAttention> m_ref;
    std::unique_ptr<MainWindow> m_window;
};

QTEST_MAIN(TestExplorerWindow)
#include "tst_explorer_window.moc"
