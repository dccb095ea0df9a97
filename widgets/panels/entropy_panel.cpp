#include "panels/entropy_panel.h"

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

void EntropyPanel::setProfile(const EntropyProfile& p) {
    m_profile = p;
    m_plot->clearGraphs();
    const int64_t T = p.tokens;
    QVector<double> x(qsizetype(T), 0.0), uniform(qsizetype(T), 0.0);
    for (int64_t i = 0; i < T; ++i) {
        x[int(i)] = double(i);
        uniform[int(i)] = std::log(double(i + 1));
    }
    QCPGraph* bound = m_plot->addCurve(tr("uniform ln(i+1)"), QColor(128, 128, 128), false, Qt::DashLine);
    bound->setData(x, uniform, true);
    double top = 0.1, lowest = 1e9;
    int focused = 0;
    for (int l = 0; l < p.nLayers; ++l) {
        QVector<double> y(qsizetype(T), 0.0);
        for (int64_t i = 0; i < T; ++i) y[int(i)] = p.at(l, i);
        QCPGraph* g = m_plot->addCurve(tr("layer %1").arg(l), seriesColor(l));
        g->setData(x, y, true);
        if (p.layerMean[size_t(l)] < lowest) lowest = p.layerMean[size_t(l)], focused = l;
    }
    if (T > 0) top = std::max(top, std::log(double(T)));
    m_plot->xAxis->setRange(0, std::max<double>(1, double(T - 1)));
    m_plot->yAxis->setRange(0, top * 1.05);
    m_plot->replot();
    m_summary->setText(tr("%1 tokens, %2 layers. Lowest mean entropy: layer %3 (%4 nats; uniform attention over the "
                          "whole prompt would be %5).")
                           .arg(T).arg(p.nLayers).arg(focused).arg(lowest, 0, 'f', 2).arg(std::log(double(std::max<int64_t>(T, 1))), 0, 'f', 2));
}

}  // namespace attnscope::widgets
