#include "plot/kv_sweep_plot.h"

#include <cmath>

#include "plot/plot_menu.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {

KvSweepPlot::KvSweepPlot(QWidget* parent) : QCustomPlot(parent) {
    setMinimumSize(260, 200);
    xAxis->setLabel(tr("budget B (kept tokens per head)"));
    xAxis->setScaleType(QCPAxis::stLogarithmic);
    auto ticker = QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog);
    ticker->setLogBase(2);
    xAxis->setTicker(ticker);
    xAxis->setNumberFormat(QStringLiteral("g"));
    legend->setVisible(true);
    // The legend sits right of the data, so it never hides a curve.
    axisRect()->insetLayout()->take(legend);
    plotLayout()->addElement(0, 1, legend);
    plotLayout()->setColumnStretchFactor(1, 0.001);
    legend->setMargins(QMargins(4, 2, 4, 2));
    PlotMenu::install(this, QStringLiteral("kv-budget-sweep"));
    installPlotTheme(this);
}

void KvSweepPlot::clearSeries() {
    clearGraphs();
    replot();
}

void KvSweepPlot::setSeries(const std::vector<Series>& series, const QString& valueTitle) {
    clearGraphs();
    yAxis->setLabel(valueTitle);
    const bool logY = yAxis->scaleType() == QCPAxis::stLogarithmic;
    static const QCPScatterStyle::ScatterShape kShapes[] = {QCPScatterStyle::ssDisc, QCPScatterStyle::ssSquare,
                                                           QCPScatterStyle::ssDiamond, QCPScatterStyle::ssTriangle};
    for (size_t i = 0; i < series.size(); ++i) {
        QCPGraph* g = addGraph();
        g->setName(QString::fromStdString(series[i].name));
        // Ten colours, then the dash style and marker tell the rest apart.
        g->setPen(QPen(seriesColor(int(i)), 2, i < 10 ? Qt::SolidLine : Qt::DashLine));
        g->setScatterStyle(QCPScatterStyle(kShapes[(i / 10 + i) % 4], 6));
        QVector<double> x, y;
        for (size_t k = 0; k < series[i].x.size(); ++k) {
            if (logY && !(series[i].y[k] > 0)) continue;
            x << series[i].x[k];
            y << series[i].y[k];
        }
        g->setData(x, y);
    }
    rescaleAxes();
    QCPRange xr = xAxis->range();
    xAxis->setRange(xr.lower / 1.3, xr.upper * 1.3);
    QCPRange yr = yAxis->range();
    if (logY) yAxis->setRange(yr.lower / 1.5, yr.upper * 1.5);
    else yAxis->setRange(yr.lower - 0.05 * std::max(yr.size(), 1e-9), yr.upper + 0.05 * std::max(yr.size(), 1e-9));
    replot();
}

void KvSweepPlot::setLogValues(bool log) {
    yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log) yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
}

}  // namespace attnscope::widgets
