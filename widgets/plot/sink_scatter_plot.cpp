#include "plot/sink_scatter_plot.h"

#include <algorithm>

#include "models/sink_views.h"
#include "plot/plot_menu.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {
namespace {

constexpr SinkClass kClasses[3] = {SinkClass::Primary, SinkClass::Secondary, SinkClass::Noise};
// The token map's mark shapes, so a class looks the same in every view.
constexpr QCPScatterStyle::ScatterShape kShapes[3] = {QCPScatterStyle::ssTriangle, QCPScatterStyle::ssDiamond,
                                                      QCPScatterStyle::ssCircle};

}  // namespace

SinkScatterPlot::SinkScatterPlot(QWidget* parent) : QCustomPlot(parent) {
    setMinimumSize(200, 160);
    for (int i = 0; i < 3; ++i) {
        m_points[i] = addGraph();
        m_points[i]->setName(sinkClassLabel(kClasses[i]));
        makeScatter(m_points[i], kShapes[i], sinkClassColor(kClasses[i]), 8, Qt::black);
    }
    m_fit = addGraph();
    m_fit->setName(tr("least squares"));
    m_fit->setPen(QPen(seriesColor(0), 2));
    legend->setVisible(true);
    legend->setIconSize(14, 10);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    xAxis->setLabel(tr("MLP output \u2016y\u2016 at the creation layer"));
    // Said inside the plot when there is no line (fewer than 2 sinks, no spread, no MLP outputs).
    m_note = new QCPItemText(this);
    m_note->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_note->position->setCoords(0.5, 0.5);
    m_note->setPositionAlignment(Qt::AlignCenter);
    setToolTip(tr("Every detected sink (primary, secondary, noise): the norm of its MLP output at the layer where it "
                  "becomes a sink, against its sink score or its lifetime, with the least-squares line and Pearson r. "
                  "Wong et al. find that this norm sets a secondary sink's score and lifetime."
                  "<br><i>Source: Wong et al., \u201cOn the Existence and Behaviour of Secondary Attention Sinks\u201d "
                  "(arXiv 2512.22213)</i>"));
    PlotMenu::install(this, QStringLiteral("sink_mlp_scatter"));
    installPlotTheme(this);
    redraw();
}

QCPGraph* SinkScatterPlot::classGraph(SinkClass cls) const {
    const auto* it = std::find(std::begin(kClasses), std::end(kClasses), cls);
    return it == std::end(kClasses) ? nullptr : m_points[it - std::begin(kClasses)];
}

void SinkScatterPlot::setScatter(const SinkScatter& scatter) {
    m_scatter = scatter;
    redraw();
}

void SinkScatterPlot::setYAxis(YAxis y) {
    m_y = y;
    redraw();
}

QString SinkScatterPlot::fitText() const {
    if (!m_scatter.hasMlp) return tr("no MLP outputs in this run");
    return sinkFitText(m_y == YAxis::Score ? m_scatter.scoreFit : m_scatter.lifetimeFit);
}

void SinkScatterPlot::redraw() {
    const bool score = m_y == YAxis::Score;
    yAxis->setLabel(score ? tr("sink score (mean s)") : tr("lifetime (layers)"));
    if (score) {
        yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    } else {
        auto ticker = QSharedPointer<QCPAxisTickerFixed>(new QCPAxisTickerFixed);
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        yAxis->setTicker(ticker);
    }
    double xMax = 0, yMax = 0;
    for (int i = 0; i < 3; ++i) {
        QVector<double> x, y;
        for (const SinkScatterPoint& p : m_scatter.points)
            if (p.cls == kClasses[i]) {
                x << p.mlpNorm;
                y << (score ? p.score : p.lifetime);
                xMax = std::max(xMax, p.mlpNorm);
                yMax = std::max(yMax, y.back());
            }
        m_points[i]->setData(x, y);
        // Classes without points stay out of the legend.
        if (x.isEmpty()) m_points[i]->removeFromLegend();
        else m_points[i]->addToLegend();
    }
    const LinearFit& f = score ? m_scatter.scoreFit : m_scatter.lifetimeFit;
    xMax = xMax > 0 ? xMax * 1.1 : 1.0;
    yMax = yMax > 0 ? yMax * 1.15 : 1.0;
    if (f.lineDefined) {
        m_fit->setData({0.0, xMax}, {f.intercept, f.intercept + f.slope * xMax});
        m_fit->setName(fitText());  // "r = ..., fit a + b·x (n = ...)"
        m_fit->addToLegend();
    } else {
        m_fit->data()->clear();
        m_fit->removeFromLegend();
    }
    xAxis->setRange(0, xMax);
    yAxis->setRange(0, yMax);
    m_note->setText(f.rDefined ? QString() : fitText());
    m_note->setColor(palette().color(QPalette::PlaceholderText));
    replot(rpQueuedReplot);
}

}  // namespace attnscope::widgets
