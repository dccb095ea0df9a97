// Widgets without torch: the heatmap shows exactly what it is given, colormaps behave,
// the token strip makes whitespace visible, exports parse back.
#include <cmath>

#include <QFile>
#include <QImage>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

#include "metatypes.h"
#include "model_summary.h"
#include "panels/attention_maps_panel.h"
#include "plot/attention_heatmap.h"
#include "plot/colormaps.h"
#include "token_strip.h"

using namespace attnscope;
using namespace attnscope::widgets;

namespace {

Matrix2D causalMatrix(int64_t n) {
    // Row i spreads over keys 0..i with distinct, exactly representable values.
    Matrix2D m{n, n, std::vector<float>(size_t(n * n), 0.f)};
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j <= i; ++j) m.data[size_t(i * n + j)] = float(j + 1) / 64.f;
    return m;
}

// Shown on screen at `size`, so that its layout (axis rect, tick labels) is real.
bool showExposed(QWidget& widget, QSize size) {
    widget.resize(size);
    widget.show();
    return QTest::qWaitForWindowExposed(&widget);
}

attnscope::TokenStrip tokens(const std::vector<std::string>& pieces) {
    attnscope::TokenStrip t;
    for (size_t i = 0; i < pieces.size(); ++i) t.ids.push_back(int32_t(100 + i));
    t.pieces = pieces;
    return t;
}

}  // namespace

class TestAttentionHeatmap : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { registerMetaTypes(); }

    void fillsExactValues() {
        AttentionHeatmap plot;
        const Matrix2D m{3, 4, {0.f, 0.125f, 0.25f, 0.375f, 0.5f, 0.625f, 0.75f, 0.875f,
                                1.f, 0.0001f, 1e-7f, 0.3333333f}};
        plot.setCausalMask(false);
        plot.setMatrix(m);
        QCPColorMapData* d = plot.colorMap()->data();
        QCOMPARE(d->keySize(), 4);
        QCOMPARE(d->valueSize(), 3);
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c) QCOMPARE(d->cell(c, r), double(m.at(r, c)));
        QVERIFY(!plot.colorMap()->interpolate());
        QVERIFY(plot.yAxis->rangeReversed());
        QCOMPARE(plot.xAxis->label(), QStringLiteral("key position"));
        QCOMPARE(plot.yAxis->label(), QStringLiteral("query position"));
        QCOMPARE(plot.colorScaleElement()->axis()->label(), QStringLiteral("attention probability"));
        // Cell centres sit on token positions.
        QCOMPARE(d->keyRange().lower, 0.0);
        QCOMPARE(d->keyRange().upper, 3.0);
        QCOMPARE(plot.colorMap()->dataRange().upper, 1.0);
    }

    void causalMaskLeavesValuesAndHidesFuture() {
        AttentionHeatmap plot;
        const Matrix2D m = causalMatrix(5);
        plot.setMatrix(m);
        QCPColorMapData* d = plot.colorMap()->data();
        for (int r = 0; r < 5; ++r) {
            for (int c = 0; c < 5; ++c) {
                QCOMPARE(d->cell(c, r), double(m.at(r, c)));
                QCOMPARE(int(d->alpha(c, r)), c > r ? 0 : 255);
            }
        }
    }

    void logScaleHandlesZeros() {
        AttentionHeatmap plot;
        const Matrix2D m = causalMatrix(6);  // upper triangle is exactly 0
        plot.setMatrix(m);
        plot.setColorScaleType(ColorScale::Log);
        const double floor = plot.logFloor();
        QVERIFY(floor > 0.0);
        QCOMPARE(plot.colorMap()->dataScaleType(), QCPAxis::stLogarithmic);
        QCOMPARE(plot.colorMap()->dataRange().lower, floor);
        QCOMPARE(plot.colorMap()->dataRange().upper, 6.0 / 64.0);
        QCPColorMapData* d = plot.colorMap()->data();
        for (int r = 0; r < 6; ++r) {
            for (int c = 0; c < 6; ++c) {
                const double v = d->cell(c, r);
                QVERIFY(std::isfinite(v) && v > 0.0);
                QCOMPARE(v, m.at(r, c) == 0.f ? floor : double(m.at(r, c)));
            }
        }
        // The source matrix is kept unchanged for hover read-out.
        QCOMPARE(plot.cellAt(0, 5)->value, 0.f);
        QVERIFY(!plot.toPixmap(200, 200).isNull());
        // Back to linear restores the exact values.
        plot.setColorScaleType(ColorScale::Linear);
        QCOMPARE(d->cell(5, 0), 0.0);

        AttentionHeatmap zeros;  // all zeros: no log of zero anywhere
        zeros.setColorScaleType(ColorScale::Log);
        zeros.setMatrix(Matrix2D{2, 2, {0.f, 0.f, 0.f, 0.f}});
        QVERIFY(zeros.logFloor() > 0.0);
        QVERIFY(zeros.colorMap()->dataRange().lower > 0.0);
        QVERIFY(!zeros.toPixmap(100, 100).isNull());
    }

    void pooledCellsCoverBlocks() {
        AttentionHeatmap plot;
        plot.setMatrix(Matrix2D{2, 2, {0.5f, 0.f, 0.25f, 0.75f}}, HeatmapExtent{0, 8, 0, 8});
        const auto cell = plot.cellAt(1, 0);
        QVERIFY(cell);
        QCOMPARE(cell->query0, 4);
        QCOMPARE(cell->query1, 8);
        QCOMPARE(cell->key0, 0);
        QCOMPARE(cell->key1, 4);
        QCOMPARE(cell->value, 0.25f);
        QVERIFY(plot.cellAt(0, 1)->masked);
        QVERIFY(!plot.cellAt(1, 1)->masked);
        // 5 positions in 2 cells: floor(p * 2 / 5) puts 0..2 in cell 0 and 3..4 in cell 1.
        plot.setMatrix(Matrix2D{2, 2, {1.f, 0.f, 0.5f, 0.5f}}, HeatmapExtent{0, 5, 0, 5});
        QCOMPARE(plot.cellAt(0, 0)->key1, 3);
        QCOMPARE(plot.cellAt(1, 1)->key0, 3);
        QCOMPARE(plot.cellAt(1, 1)->key1, 5);

        // Pooled and not square: a cell is blank exactly when its first key comes after its
        // last query (block edges ceil(j * n / cells)).
        const int rows = 7, cols = 5;
        const int64_t n = 23;
        plot.setMatrix(Matrix2D{rows, cols, std::vector<float>(size_t(rows * cols), 0.5f)}, HeatmapExtent{0, n, 0, n});
        QCPColorMapData* d = plot.colorMap()->data();
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) {
                const int64_t key0 = (c * n + cols - 1) / cols, lastQuery = ((r + 1) * n + rows - 1) / rows - 1;
                QCOMPARE(int(d->alpha(c, r)), key0 > lastQuery ? 0 : 255);
            }
    }

    void tileHidesBaseBlocksOnTheDiagonal() {
        // A 4 x 4 block-max base over 40 positions (blocks of 10) and an exact tile of
        // queries 12..28 x keys 8..28: where the tile is masked (key after query) the
        // background must show, not a base block that straddles the diagonal.
        AttentionHeatmap plot;
        plot.setMatrix(Matrix2D{4, 4, std::vector<float>(16, 0.5f)}, HeatmapExtent{0, 40, 0, 40});
        plot.setDetail(causalMatrix(20), HeatmapExtent{12, 28, 8, 28});
        QCPColorMapData* base = plot.colorMap()->data();
        // Blocks (row, col) with rows 1..2 and cols 0..2 meet the tile; of those, the ones
        // with a key after one of their queries (col >= row) are hidden, col < row stay.
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 4; ++c) {
                const bool meetsTile = r >= 1 && r <= 2 && c <= 2;
                const bool masked = c > r;  // every key after every query
                const int expected = masked || (meetsTile && c >= r) ? 0 : 255;
                QCOMPARE(int(base->alpha(c, r)), expected);
            }
        plot.clearDetail();
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 4; ++c) QCOMPARE(int(base->alpha(c, r)), c > r ? 0 : 255);
    }

    void hoverReportsCell() {
        AttentionHeatmap plot;
        QVERIFY(showExposed(plot, QSize(500, 400)));
        plot.setMatrix(causalMatrix(4));
        plot.replot();
        QSignalSpy spy(&plot, &AttentionHeatmap::cellHovered);
        const QPointF pixel(plot.xAxis->coordToPixel(1.0), plot.yAxis->coordToPixel(3.0));
        QMouseEvent move(QEvent::MouseMove, pixel, plot.mapToGlobal(pixel), Qt::NoButton,
                         Qt::NoButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&plot, &move);
        QCOMPARE(spy.count(), 1);
        const auto cell = spy.at(0).at(0).value<HeatmapCell>();
        QCOMPARE(cell.query0, 3);
        QCOMPARE(cell.key0, 1);
        QCOMPARE(cell.value, 2.f / 64.f);
    }

    void tokenLabelsWhenZoomedIn() {
        AttentionHeatmap plot;
        QVERIFY(showExposed(plot, QSize(800, 600)));
        plot.setMatrix(causalMatrix(6));
        plot.setTokenLabels({"a", "b", "c", "d", "e", "f"});
        plot.replot();
        QVERIFY(plot.showsTokenLabelsX());
        plot.setMatrix(causalMatrix(600));
        QVERIFY(!plot.showsTokenLabelsX());
        plot.xAxis->setRange(9.5, 19.5);  // zoom in to ten tokens
        QVERIFY(plot.showsTokenLabelsX());
    }

    void colormapsMonotoneInLightness() {
        for (Colormap map : kAllColormaps) {
            QCPColorGradient g = makeGradient(map);
            // Fine steps may dip by 8-bit rounding of the colour buffer (< 1e-3 in
            // luminance); steps of 1/20 must rise strictly.
            double previous = -1.0, previousCoarse = -1.0;
            for (int i = 0; i <= 200; ++i) {
                const QColor c = QColor::fromRgb(g.color(i / 200.0, QCPRange(0.0, 1.0)));
                const double y = relativeLuminance(c);
                const QString where = colormapName(map) + QStringLiteral(" at %1").arg(i / 200.0);
                QVERIFY2(y >= previous - 1e-3, qPrintable(where));
                if (i % 10 == 0) {
                    QVERIFY2(y > previousCoarse, qPrintable(where));
                    previousCoarse = y;
                }
                previous = y;
            }
            QVERIFY(previous > 0.6);
        }
        // Published end points of viridis and magma.
        QCPColorGradient viridis = makeGradient(Colormap::Viridis);
        QCOMPARE(QColor::fromRgb(viridis.color(0.0, QCPRange(0, 1))).name(), QStringLiteral("#440154"));
        QCOMPARE(QColor::fromRgb(viridis.color(1.0, QCPRange(0, 1))).name(), QStringLiteral("#fde725"));
        QCPColorGradient magma = makeGradient(Colormap::Magma);
        QCOMPARE(QColor::fromRgb(magma.color(1.0, QCPRange(0, 1))).name(), QStringLiteral("#fcfdbf"));
        QCOMPARE(colormapFromName("Cividis"), std::optional<Colormap>(Colormap::Cividis));
    }

    void tokenStripShowsWhitespace() {
        QCOMPARE(displayPiece(" the", PieceStyle::Plain), QStringLiteral("\u00b7the"));
        QCOMPARE(displayPiece("\u2581the", PieceStyle::Plain), QStringLiteral("\u00b7the"));
        QCOMPARE(displayPiece("\n", PieceStyle::Plain), QStringLiteral("\u21b5"));
        QCOMPARE(displayPiece("\t", PieceStyle::Plain), QStringLiteral("\u2192"));
        QCOMPARE(displayPiece("<0x0A>", PieceStyle::Plain), QStringLiteral("<0x0A>"));
        QCOMPARE(displayPiece("\u0120dog", PieceStyle::ByteLevel), QStringLiteral("\u00b7dog"));
        QCOMPARE(displayPiece("\u010a\u010a", PieceStyle::ByteLevel), QStringLiteral("\u21b5\u21b5"));
        QCOMPARE(displayPiece("\u0120dog", PieceStyle::Plain), QStringLiteral("\u0120dog"));
        QCOMPARE(detectPieceStyle({"\u0120the", "dog"}), PieceStyle::ByteLevel);
        QCOMPARE(detectPieceStyle({"\u2581the", "\u0120"}), PieceStyle::Plain);

        widgets::TokenStrip strip;
        strip.resize(300, 100);
        strip.setTokens(tokens({"<s>", " Once", " upon", "\n", "<0x0A>"}));
        QCOMPARE(strip.count(), 5);
        QCOMPARE(strip.displayText(1), QStringLiteral("\u00b7Once"));
        QCOMPARE(strip.displayText(3), QStringLiteral("\u21b5"));
        QCOMPARE(strip.displayText(4), QStringLiteral("<0x0A>"));
        const QImage image = strip.grab().toImage();
        QCOMPARE(image.size(), QSize(300, 100));
        QVERIFY(strip.chipRect(4).right() < 300);
    }

    void tokenStripSelectionEmitsIndex() {
        widgets::TokenStrip strip;
        std::vector<std::string> pieces;
        for (int i = 0; i < 40; ++i) pieces.push_back(" word" + std::to_string(i));
        strip.resize(260, strip.heightForWidth(260));
        strip.setTokens(tokens(pieces));
        strip.show();
        QVERIFY(QTest::qWaitForWindowExposed(&strip));
        QVERIFY(strip.heightForWidth(260) > strip.heightForWidth(2000));  // it wraps
        QSignalSpy spy(&strip, &widgets::TokenStrip::tokenClicked);
        QTest::mouseClick(&strip, Qt::LeftButton, {}, strip.chipRect(7).center());
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toInt(), 7);
        QCOMPARE(strip.selectedIndex(), 7);
        QTest::keyClick(&strip, Qt::Key_Right);
        QCOMPARE(spy.count(), 2);
        QCOMPARE(spy.at(1).at(0).toInt(), 8);
        strip.setHighlights(std::vector<float>(40, 0.025f));
        QCOMPARE(strip.highlights().size(), size_t(40));
        QVERIFY(!strip.grab().isNull());
    }

    void exportWritesParsableFiles() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        AttentionHeatmap plot;
        plot.resize(400, 300);
        plot.setMatrix(causalMatrix(8));

        const QString png = dir.filePath("map.png");
        QVERIFY(plot.exportTo(png, 640, 480));
        QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), QSize(640, 480));

        const QString svg = dir.filePath("map.svg");
        QVERIFY(plot.exportTo(svg, 640, 480));
        QFile svgFile(svg);
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&svgFile);
        bool sawSvg = false;
        while (!xml.atEnd())
            if (xml.readNext() == QXmlStreamReader::StartElement && xml.name() == QLatin1String("svg"))
                sawSvg = true;
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QVERIFY(sawSvg);

        const QString pdf = dir.filePath("map.pdf");
        QVERIFY(plot.exportTo(pdf, 640, 480));
        QFile pdfFile(pdf);
        QVERIFY(pdfFile.open(QIODevice::ReadOnly));
        const QByteArray bytes = pdfFile.readAll();
        QVERIFY(bytes.startsWith("%PDF"));
        QVERIFY(QRegularExpression(QStringLiteral("/Type\\s*/Page[^s]"))
                    .match(QString::fromLatin1(bytes)).hasMatch());

        QVERIFY(!plot.exportTo(dir.filePath("map.xyz"), 10, 10));
    }

    void panelRequestsViewsAndDescribesCells() {
        AttentionMapsPanel panel;
        panel.setLayer(2);  // before a model is known, as --layer does
        panel.setModelShape(5, 8);
        QCOMPARE(panel.layer(), 2);
        QSignalSpy spy(&panel, &AttentionMapsPanel::viewRequested);
        panel.stepHead(+1);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toInt(), 2);
        panel.setHead(-1);
        QCOMPARE(panel.head(), -1);
        panel.stepLayer(+10);  // clamped to the last layer
        QCOMPARE(panel.layer(), 4);

        panel.setTokens(tokens({"<s>", " Once", " upon"}));
        panel.setAttention(causalMatrix(3), {0, 3, 0, 3}, 4, 7);
        HeatmapCell cell{2, 3, 1, 2, 0.5f, false};
        QCOMPARE(panel.describeCell(cell),
                 QStringLiteral("query 2 \u201c\u00b7upon\u201d \u2192 key 1 \u201c\u00b7Once\u201d : 0.5"));
        panel.setRowHighlight(0, {1.f, 0.f, 0.f});  // no token selected: ignored
        QVERIFY(panel.tokenStrip()->highlights().empty());
    }

    void modelSummaryShowsInfo() {
        ModelSummary summary;
        ModelInfo info;
        info.path = "/models/stories260K.bin";
        info.arch = "llama2c";
        info.nLayers = 5;
        info.nHeads = 8;
        info.nKvHeads = 4;
        info.nParams = 260'000;
        summary.setInfo(info);
        QCOMPARE(summary.value("Model"), QStringLiteral("stories260K.bin"));
        QCOMPARE(summary.value("Layers"), QStringLiteral("5"));
        QCOMPARE(summary.value("Heads"), QStringLiteral("8 query / 4 key-value"));
        QCOMPARE(summary.value("Parameters"), QStringLiteral("260.0 K"));
        summary.clear();
        QVERIFY(summary.value("Layers").isEmpty());
    }
};

QTEST_MAIN(TestAttentionHeatmap)
#include "tst_attention_heatmap.moc"
