// The shared plot context menu: the CSV copy of a plot equals its data, exports write
// files that parse back (PNG at the chosen DPI), every panel plot carries the menu.
#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QImage>
#include <QMenu>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

#include "panels/head_grid_panel.h"
#include "panels/sinks_panel.h"
#include "panels/weibull_panel.h"
#include "plot/attention_heatmap.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "plot/plot_menu.h"

using namespace attnscope;
using namespace attnscope::widgets;

namespace {

// Parses CSV without quotes (what these tests produce) into rows of fields.
QList<QStringList> parse(const QString& csv) {
    QList<QStringList> rows;
    for (const QString& line : csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) rows << line.split(QLatin1Char(','));
    return rows;
}

}  // namespace

class TestPlotMenu : public QObject {
    Q_OBJECT
private slots:
    void csvOfGraphsAndBarsEqualsData() {
        QCustomPlot plot;
        QCPGraph* g = plot.addGraph();
        g->setName(QStringLiteral("k"));
        const QVector<double> x{0, 1, 2}, y{1.2054, 0.1, -3.5e-7};
        g->setData(x, y);
        auto* bars = new QCPBars(plot.xAxis, plot.yAxis2);
        bars->setName(QStringLiteral("count"));
        bars->setData({0, 1}, {3, 0});
        PlotMenu* menu = PlotMenu::install(&plot);
        QCOMPARE(PlotMenu::install(&plot), menu);  // once per plot
        menu->copyCsv();
        const QString csv = QApplication::clipboard()->text();
        QCOMPARE(csv, QStringLiteral("series,x,y\nk,0,1.2054\nk,1,0.1\nk,2,-3.5e-07\ncount,0,3\ncount,1,0\n"));
        const QList<QStringList> rows = parse(csv);
        for (int i = 0; i < 3; ++i) QCOMPARE(rows[i + 1][2].toDouble(), y[i]);  // reads back exactly
    }

    void csvOfMatrixPlotEqualsCells() {
        MatrixPlot plot;
        const Matrix2D m{2, 3, {0.1f, 0.2f, std::numeric_limits<float>::quiet_NaN(), 1.f / 3.f, 5.f, -1.f}};
        plot.setMatrix(m);
        plot.setRowLabels({QStringLiteral("L0"), QStringLiteral("L1")});
        plot.setColumnLabels({QStringLiteral("q"), QStringLiteral("a,b"), QStringLiteral("o")});
        PlotMenu::of(&plot)->copyCsv();
        const QString csv = QApplication::clipboard()->text();
        QCOMPARE(csv.section(QLatin1Char('\n'), 0, 0), QStringLiteral("row,row_label,column,column_label,value"));
        QCOMPARE(csv.section(QLatin1Char('\n'), 2, 2), QStringLiteral("0,L0,1,\"a,b\",0.2"));  // quoted label
        int n = 0;
        for (const QString& line : csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts).mid(1)) {
            const QStringList f = line.split(QLatin1Char(','));
            const int r = f.first().toInt(), c = f[2].toInt();
            QCOMPARE(f.last().toFloat(), m.at(r, c));  // float text reads back to the same float
            ++n;
        }
        QCOMPARE(n, 5);  // the NaN cell has no value
    }

    void csvOfAttentionHeatmapIsTheMatrix() {
        AttentionHeatmap plot;
        const Matrix2D m{2, 2, {1.f, 0.f, 0.25f, 0.75f}};
        plot.setMatrix(m);
        plot.setTokenLabels({QStringLiteral("a"), QStringLiteral("b")});
        QCOMPARE(PlotMenu::of(&plot)->csv(), QStringLiteral("query/key,0 a,1 b\n0 a,1,0\n1 b,0.25,0.75\n"));
    }

    void menuHasExportsAndCopy() {
        QCustomPlot plot;
        QMenu* menu = PlotMenu::install(&plot)->createMenu(&plot);
        QStringList texts;
        for (QAction* a : menu->actions())
            if (!a->isSeparator()) texts << a->text();
        QCOMPARE(texts, (QStringList{QStringLiteral("Export PNG\u2026"), QStringLiteral("Export SVG\u2026"),
                                     QStringLiteral("Export PDF\u2026"), QStringLiteral("Copy Data as CSV")}));
        QCOMPARE(plot.contextMenuPolicy(), Qt::CustomContextMenu);
        delete menu;
    }

    void exportsParseBack() {
        QTemporaryDir dir;
        LayerCurvesPlot plot(QStringLiteral("curves"));
        plot.resize(400, 300);
        plot.addCurve(QStringLiteral("k"), Qt::red)->setData({0, 1}, {1.1, 1.2});
        const QString png = dir.filePath(QStringLiteral("p.png"));
        QVERIFY(exportPlot(&plot, png, 192));
        QImage image(png);
        QCOMPARE(image.size(), QSize(800, 600));  // 192 DPI: twice the logical size
        QCOMPARE(qRound(image.dotsPerMeterX() * 0.0254), 192);
        const QString svg = dir.filePath(QStringLiteral("p.svg"));
        QVERIFY(exportPlot(&plot, svg));
        QFile svgFile(svg);
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&svgFile);
        while (!xml.atEnd()) xml.readNext();
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        const QString pdf = dir.filePath(QStringLiteral("p.pdf"));
        QVERIFY(exportPlot(&plot, pdf));
        QFile pdfFile(pdf);
        QVERIFY(pdfFile.open(QIODevice::ReadOnly));
        QVERIFY(pdfFile.read(5) == "%PDF-");
        QVERIFY(!exportPlot(&plot, dir.filePath(QStringLiteral("p.bmp"))));
    }

    void everyPanelPlotHasTheMenu() {
        SinksPanel sinks;
        WeibullPanel weibull;
        HeadGridPanel heads;
        int plots = 0;
        for (QWidget* panel : std::initializer_list<QWidget*>{&sinks, &weibull, &heads}) {
            for (QCustomPlot* plot : panel->findChildren<QCustomPlot*>()) {
                QVERIFY2(PlotMenu::of(plot), qPrintable(plot->metaObject()->className()));
                ++plots;
            }
        }
        // sinks: map, levels, layer curves, token curves, MLP scatter; Weibull: k, lambda,
        // k by layer, detail, series; head grid
        QCOMPARE(plots, 5 + 5 + 1);
    }
};

QTEST_MAIN(TestPlotMenu)
#include "tst_plot_menu.moc"
