#include "plot/plot_theme.h"

#include <array>

#include <QEvent>
#include <qcustomplot.h>

namespace attnscope::widgets {
namespace {

class ThemeFilter : public QObject {
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
            auto* plot = static_cast<QCustomPlot*>(watched);
            applyPlotTheme(plot);
            plot->replot(QCustomPlot::rpQueuedReplot);
        }
        return false;
    }
};

// Found by name: ThemeFilter has no Q_OBJECT of its own, so findChild<ThemeFilter*> would
// match any child QObject (QCustomPlot has several) and never install the filter.
constexpr const char* kFilterName = "attnscope-plot-theme-filter";

}  // namespace

void installPlotTheme(QCustomPlot* plot) {
    if (!plot->findChild<QObject*>(QLatin1String(kFilterName), Qt::FindDirectChildrenOnly)) {
        auto* filter = new ThemeFilter(plot);
        filter->setObjectName(QLatin1String(kFilterName));
        plot->installEventFilter(filter);
    }
    applyPlotTheme(plot);
}

void applyAxisTheme(QCPAxis* axis, const QPalette& palette, const QFont& font) {
    const QColor text = palette.color(QPalette::WindowText);
    QColor faint = text;
    faint.setAlphaF(0.6f);
    QFont labelFont = font;
    labelFont.setBold(true);
    axis->setBasePen(QPen(faint));
    axis->setTickPen(QPen(faint));
    axis->setSubTickPen(QPen(faint));
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->setTickLabelFont(font);
    axis->setLabelFont(labelFont);
}

void applyPlotTheme(QCustomPlot* plot) {
    const QPalette pal = plot->palette();
    const QColor text = pal.color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlphaF(0.12f);
    plot->setBackground(pal.color(QPalette::Window));
    for (QCPAxisRect* rect : plot->axisRects()) {
        rect->setBackground(pal.color(QPalette::Base));
        for (QCPAxis* axis : rect->axes()) {
            applyAxisTheme(axis, pal, plot->font());
            axis->grid()->setPen(QPen(grid, 0, Qt::DotLine));
            axis->grid()->setZeroLinePen(Qt::NoPen);
        }
    }
    // Colour scales live outside the axis rects.
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i) {
        if (auto* scale = qobject_cast<QCPColorScale*>(plot->plotLayout()->elementAt(i)))
            applyAxisTheme(scale->axis(), pal, plot->font());
    }
    if (plot->legend) {
        // Legends sit in their own row above the data (LayerCurvesPlot): no box needed.
        plot->legend->setBrush(Qt::NoBrush);
        plot->legend->setBorderPen(Qt::NoPen);
        plot->legend->setTextColor(text);
        plot->legend->setFont(plot->font());
    }
}

QColor seriesColor(int index) {
    static constexpr std::array<unsigned, 10> kTableau = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                                          0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    return QColor::fromRgb(kTableau[size_t(index) % kTableau.size()]);
}

void makeScatter(QCPGraph* graph, int shape, const QColor& fill, double size, const QColor& outline) {
    graph->setLineStyle(QCPGraph::lsNone);
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ScatterShape(shape),
                                           outline.isValid() ? QPen(outline, 1.2) : QPen(fill.darker(140), 1.0),
                                           QBrush(fill), size));
    graph->setPen(QPen(fill));
}

QCPItemRect* addBand(QCustomPlot* plot, const QColor& fill, Qt::Orientation spanning, QCPAxisRect* rect) {
    auto* band = new QCPItemRect(plot);
    if (rect) band->setClipAxisRect(rect);
    band->setLayer(QStringLiteral("background"));
    band->setPen(Qt::NoPen);
    band->setBrush(fill);
    for (QCPItemPosition* p : {band->topLeft, band->bottomRight}) {
        if (rect) {
            p->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
            p->setAxisRect(rect);
        }
        if (spanning == Qt::Horizontal) p->setTypeX(QCPItemPosition::ptAxisRectRatio);
        else p->setTypeY(QCPItemPosition::ptAxisRectRatio);
    }
    return band;
}

}  // namespace attnscope::widgets
