#include "plot/weibull_detail_plot.h"

#include <cmath>

#include "plot/plot_menu.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {
namespace {

// The core's histogram: 1024 bins of log10|w| on [-12, 2].
constexpr int kBins = 1024;
constexpr double kLo = -12.0, kHi = 2.0;
constexpr double kBinWidth = (kHi - kLo) / kBins;

}  // namespace

WeibullDetailPlot::WeibullDetailPlot(QWidget* parent) : QCustomPlot(parent) {
    setMinimumSize(280, 200);
    plotLayout()->clear();
    m_probRect = new QCPAxisRect(this);
    m_histRect = new QCPAxisRect(this);
    plotLayout()->addElement(0, 0, m_probRect);
    plotLayout()->addElement(0, 1, m_histRect);
    for (QCPAxisRect* r : {m_probRect, m_histRect}) {
        r->setLayer(QStringLiteral("background"));  // as the default rect: shading must go above it
        r->setupFullAxesBox(false);
        for (QCPAxis* a : {r->axis(QCPAxis::atTop), r->axis(QCPAxis::atRight)}) a->setVisible(false);
    }
    m_probRect->axis(QCPAxis::atBottom)->setLabel(tr("ln |w|"));
    m_probRect->axis(QCPAxis::atLeft)->setLabel(tr("ln(\u2212ln(1\u2212F))"));
    m_histRect->axis(QCPAxis::atBottom)->setLabel(tr("log10 |w|"));
    m_histRect->axis(QCPAxis::atLeft)->setLabel(tr("count per bin"));
    // Few ticks: each pane is ~150 px wide in a docked panel.
    for (QCPAxisRect* r : {m_probRect, m_histRect}) r->axis(QCPAxis::atBottom)->ticker()->setTickCount(4);

    QCPAxis* px = m_probRect->axis(QCPAxis::atBottom);
    QCPAxis* py = m_probRect->axis(QCPAxis::atLeft);
    m_window = addBand(this, QColor(0x2c, 0xa0, 0x2c, 40), Qt::Vertical, m_probRect);
    m_points = addGraph(px, py);
    m_points->setName(tr("|w| (Hazen positions)"));
    makeScatter(m_points, QCPScatterStyle::ssDisc, seriesColor(0), 3, seriesColor(0));
    m_line = addGraph(px, py);
    m_line->setName(tr("fitted Weibull"));
    m_line->setPen(QPen(seriesColor(3), 2));

    QCPAxis* hx = m_histRect->axis(QCPAxis::atBottom);
    QCPAxis* hy = m_histRect->axis(QCPAxis::atLeft);
    m_hist = new QCPBars(hx, hy);
    m_hist->setName(tr("log10|w| histogram"));
    m_hist->setWidth(kBinWidth);
    m_hist->setPen(Qt::NoPen);
    m_hist->setBrush(QColor(0x1f, 0x77, 0xb4, 170));
    m_density = addGraph(hx, hy);
    m_density->setName(tr("fitted Weibull, expected count"));
    m_density->setPen(QPen(seriesColor(3), 2));

    // The matrix name (or a hint) inside the probability pane.
    m_title = new QCPItemText(this);
    m_title->setClipAxisRect(m_probRect);
    m_title->position->setAxisRect(m_probRect);
    m_title->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_title->position->setCoords(0.97, 0.97);  // bottom right: a Weibull runs bottom left to top right
    m_title->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    m_title->setTextAlignment(Qt::AlignRight);

    PlotMenu::install(this, QStringLiteral("weibull_fit"));
    installPlotTheme(this);
    clearData();
}

void WeibullDetailPlot::setData(const WeibullPlot& plot, const WeibullResult& fit, const QString& title) {
    m_data = plot;
    m_dataTitle = title;
    m_title->setText(fit.ok ? tr("%1\nk = %2, \u03bb = %3").arg(title).arg(fit.k, 0, 'f', 4).arg(fit.lambda, 0, 'g', 4)
                            : title);
    m_title->setColor(palette().color(QPalette::WindowText));
    m_points->setData(QVector<double>(plot.lnAbs.begin(), plot.lnAbs.end()),
                      QVector<double>(plot.y.begin(), plot.y.end()));
    QVector<double> lx, ly, hx, hy, dx, dy;
    double total = 0;
    int first = kBins, last = -1;
    for (int b = 0; b < int(plot.log10Counts.size()); ++b) {
        total += plot.log10Counts[size_t(b)];
        if (plot.log10Counts[size_t(b)] > 0) {
            first = std::min(first, b);
            last = std::max(last, b);
        }
    }
    for (int b = first; b <= last; ++b) {
        hx << kLo + (b + 0.5) * kBinWidth;
        hy << plot.log10Counts[size_t(b)];
    }
    m_hist->setData(hx, hy);
    if (fit.ok && !plot.lnAbs.empty()) {
        // The fitted line y = k ln|w| - k ln λ over the plotted range.
        for (double x : {plot.lnAbs.front(), plot.lnAbs.back()}) {
            lx << x;
            ly << fit.k * (x - std::log(fit.lambda));
        }
        // Expected count per log10 bin: n · pdf(10^y) · 10^y · ln 10 · Δ.
        for (int b = first; b <= last; ++b) {
            const double y = kLo + (b + 0.5) * kBinWidth, x = std::pow(10.0, y), z = x / fit.lambda;
            const double pdf = fit.k / fit.lambda * std::pow(z, fit.k - 1) * std::exp(-std::pow(z, fit.k));
            dx << y;
            dy << total * pdf * x * std::log(10.0) * kBinWidth;
        }
        m_window->topLeft->setCoords(fit.windowLnLo, 0);
        m_window->bottomRight->setCoords(fit.windowLnHi, 1);
    }
    m_window->setVisible(fit.ok);
    m_line->setData(lx, ly);
    m_density->setData(dx, dy);
    for (QCPAxisRect* r : {m_probRect, m_histRect}) {
        r->axis(QCPAxis::atBottom)->rescale();
        r->axis(QCPAxis::atLeft)->rescale();
        r->axis(QCPAxis::atLeft)->scaleRange(1.08);
    }
    replot(rpQueuedReplot);
}

void WeibullDetailPlot::clearData() {
    m_data = {};
    m_dataTitle.clear();
    m_title->setText(tr("Click a cell of the k map to see its fit"));
    m_title->setColor(palette().color(QPalette::PlaceholderText));
    for (QCPGraph* g : {m_points, m_line, m_density}) g->data()->clear();
    m_hist->data()->clear();
    m_window->setVisible(false);
    replot(rpQueuedReplot);
}

}  // namespace attnscope::widgets
