#include "panels/entropy_panel.h"

#include <algorithm>
#include <cmath>

#include <QLabel>
#include <QVBoxLayout>

#include "plot/layer_curves_plot.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {

EntropyPanel::EntropyPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_plot = new LayerCurvesPlot(QStringLiteral("entropy-by-layer"), this);
    m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_plot->xAxis->setSubTicks(true);
    m_plot->xAxis->setLabel(tr("query position i (token)"));
    m_plot->yAxis->setLabel(tr("attention entropy (nats)"));
    m_plot->setLegendColumns(4);
    layout->addWidget(m_summary);
    layout->addWidget(m_plot, 1);
    clear();
}

void EntropyPanel::clear() {
    m_profile = {};
    m_plot->clearGraphs();
    m_plot->replot();
    m_summary->setText(tr("Run a prompt: each layer's attention entropy at every query position, mean over heads."));
}

void EntropyPanel::setStatus(const QString& text) { m_summary->setText(text); }

namespace {

// Centered running mean over `w` tokens (the raw rows scatter by several nats from one token to
// the next; the figure's CSV keeps the smoothed values, the session the raw ones).
QVector<double> runningMean(const QVector<double>& y, int w) {
    QVector<double> out(y.size(), 0.0);
    double sum = 0;
    int lo = 0, hi = 0;  // window [lo, hi)
    for (int i = 0; i < y.size(); ++i) {
        while (hi < y.size() && hi <= i + w / 2) sum += y[hi++];
        while (lo < i - w / 2) sum -= y[lo++];
        out[i] = sum / double(hi - lo);
    }
    return out;
}

}  // namespace

void EntropyPanel::setProfile(const EntropyProfile& p) {
    m_profile = p;
    m_plot->clearGraphs();
    const qsizetype T = qsizetype(p.tokens);
    const int window = int(std::max<qsizetype>(1, T / 64));
    QVector<double> x(T, 0.0), uniform(T, 0.0);
    for (qsizetype i = 0; i < T; ++i) {
        x[i] = double(i);
        uniform[i] = std::log(double(i + 1));
    }
    auto curve = [&](const QString& name, const QColor& color, Qt::PenStyle style, const QVector<double>& y) {
        QCPGraph* g = m_plot->addCurve(name, color, false, style);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssNone));
        g->setData(x, y, true);
    };
    curve(tr("uniform ln(i+1)"), QColor(128, 128, 128), Qt::DashLine, uniform);
    double lowest = 1e9;
    int focused = 0;
    for (int l = 0; l < p.nLayers; ++l) {
        QVector<double> y(T, 0.0);
        for (qsizetype i = 0; i < T; ++i) y[i] = p.at(l, i);
        curve(tr("layer %1").arg(l), seriesColor(l), Qt::SolidLine, runningMean(y, window));
        if (p.layerMean[size_t(l)] < lowest) lowest = p.layerMean[size_t(l)], focused = l;
    }
    const double top = std::max(0.1, std::log(double(std::max<qsizetype>(T, 1))));
    m_plot->xAxis->setRange(0, std::max<double>(1, double(T - 1)));
    m_plot->yAxis->setRange(0, top * 1.05);
    m_plot->replot();
    const QString smoothing = window > 1 ? tr("curves are running means over %1 tokens").arg(window)
                                         : tr("one point per token");
    m_summary->setText(tr("%1 tokens, %2 layers; %3. Lowest mean entropy: layer "
                          "%4 (%5 nats; uniform attention over the whole prompt would be %6).")
                           .arg(T)
                           .arg(p.nLayers)
                           .arg(smoothing)
                           .arg(focused)
                           .arg(lowest, 0, 'f', 2)
                           .arg(top, 0, 'f', 2));
}

}  // namespace attnscope::widgets
