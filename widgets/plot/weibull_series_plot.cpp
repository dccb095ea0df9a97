#include "plot/weibull_series_plot.h"

#include <algorithm>
#include <cmath>

#include "models/weibull_views.h"
#include "plot/plot_menu.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {
namespace {

constexpr const char* kKind = "lambda";  // graph property: which pane a line belongs to

}  // namespace

WeibullSeriesPlot::WeibullSeriesPlot(QWidget* parent) : QCustomPlot(parent) {
    setMinimumSize(300, 200);
    plotLayout()->clear();
    m_kRect = new QCPAxisRect(this);
    m_lambdaRect = new QCPAxisRect(this);
    // The panes share row 0 through a sub-grid, so the legend row below spans both (a legend
    // in column 0 alone widened it and squeezed the λ pane to a sliver).
    auto* panes = new QCPLayoutGrid;
    plotLayout()->addElement(0, 0, panes);
    panes->addElement(0, 0, m_kRect);
    panes->addElement(0, 1, m_lambdaRect);
    for (QCPAxisRect* r : {m_kRect, m_lambdaRect}) {
        r->setLayer(QStringLiteral("background"));  // the band must go above the rect
        r->setupFullAxesBox(false);
        for (QCPAxis* a : {r->axis(QCPAxis::atTop), r->axis(QCPAxis::atRight)}) a->setVisible(false);
        r->axis(QCPAxis::atBottom)->setLabel(tr("training step"));
        r->axis(QCPAxis::atBottom)->ticker()->setTickCount(3);  // panes are narrow when docked
    }
    m_kRect->axis(QCPAxis::atLeft)->setLabel(tr("shape k (mean of layers)"));
    m_lambdaRect->axis(QCPAxis::atLeft)->setLabel(tr("scale \u03bb of |w| (mean of layers)"));

    QCPAxis* kx = m_kRect->axis(QCPAxis::atBottom);
    QCPAxis* ky = m_kRect->axis(QCPAxis::atLeft);
    m_band = addBand(this, QColor(0x2c, 0xa0, 0x2c, 60), Qt::Horizontal, m_kRect);
    m_band->topLeft->setCoords(0, kWeibullTransmissionHi);
    m_band->bottomRight->setCoords(1, kWeibullTransmissionLo);
    m_anchor = new QCPItemStraightLine(this);
    m_anchor->setClipAxisRect(m_kRect);
    m_anchor->setLayer(QStringLiteral("background"));
    m_anchor->setPen(QPen(QColor(0x80, 0x80, 0x80), 1.5, Qt::DashLine));
    for (QCPItemPosition* p : {m_anchor->point1, m_anchor->point2}) {
        p->setAxes(kx, ky);
        p->setAxisRect(m_kRect);
    }
    m_anchor->point1->setCoords(0, kWeibullHalfNormalK);
    m_anchor->point2->setCoords(1, kWeibullHalfNormalK);

    // One legend for both panes (same colours), under the k pane.
    m_legend = new QCPLegend;
    auto* legendRow = new QCPLayoutGrid;
    plotLayout()->addElement(1, 0, legendRow);
    plotLayout()->setRowStretchFactor(1, 0.001);
    legendRow->addElement(0, 0, m_legend);
    m_legend->setFillOrder(QCPLegend::foColumnsFirst);
    m_legend->setWrap(4);
    m_legend->setBorderPen(Qt::NoPen);
    m_legend->setLayer(QStringLiteral("legend"));

    PlotMenu::install(this, QStringLiteral("weibull_series"));
    installPlotTheme(this);
    clearSeries();
}

QCPGraph* WeibullSeriesPlot::componentGraph(const QString& component, bool lambda) const {
    for (int i = 0; i < graphCount(); ++i)
        if (graph(i)->name() == component && graph(i)->property(kKind).toBool() == lambda) return graph(i);
    return nullptr;
}

void WeibullSeriesPlot::setSeries(const std::vector<WeibullSeriesPoint>& series) {
    clearGraphs();
    m_legend->clearItems();
    double lo = kWeibullTransmissionLo, hi = kWeibullHalfNormalK;
    int index = 0;
    for (const QString& c : weibullSeriesComponents(series)) {
        const QColor color = seriesColor(index++);
        for (const bool lambda : {false, true}) {
            QCPAxisRect* r = lambda ? m_lambdaRect : m_kRect;
            QCPGraph* g = addGraph(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
            g->setName(c);
            g->setProperty(kKind, lambda);
            g->setPen(QPen(color, 2));
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, 6));
            for (const auto& [step, value] : weibullSeriesMeans(series, c, lambda)) {
                g->addData(step, value);
                if (!lambda) lo = std::min(lo, value), hi = std::max(hi, value);
            }
            g->removeFromLegend();
            if (!lambda) g->addToLegend(m_legend);
        }
    }
    for (QCPAxisRect* r : {m_kRect, m_lambdaRect}) {
        r->axis(QCPAxis::atBottom)->rescale();
        r->axis(QCPAxis::atBottom)->scaleRange(1.1);
    }
    m_lambdaRect->axis(QCPAxis::atLeft)->rescale();
    m_lambdaRect->axis(QCPAxis::atLeft)->scaleRange(1.15);
    const double pad = 0.08 * (hi - lo) + 0.005;
    m_kRect->axis(QCPAxis::atLeft)->setRange(lo - pad, hi + pad);
    m_legend->setVisible(graphCount() > 0);
    replot(rpQueuedReplot);
}

void WeibullSeriesPlot::clearSeries() {
    clearGraphs();
    m_legend->clearItems();
    m_legend->setVisible(false);
    m_kRect->axis(QCPAxis::atLeft)->setRange(kWeibullTransmissionLo - 0.02, kWeibullHalfNormalK + 0.02);
    replot(rpQueuedReplot);
}

}  // namespace attnscope::widgets
