#include "plot/layer_curves_plot.h"

#include "plot/plot_menu.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {
namespace {

constexpr char kDecoration[] = "attnscopeDecoration";

}  // namespace

LayerCurvesPlot::LayerCurvesPlot(const QString& exportName, QWidget* parent) : QCustomPlot(parent) {
    setMinimumSize(200, 160);
    // The legend gets a row of its own above the data, so it never hides a curve.
    legend->setVisible(true);
    axisRect()->insetLayout()->take(legend);
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, legend);
    plotLayout()->setRowStretchFactor(0, 0.001);
    plotLayout()->setRowSpacing(0);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setWrap(2);  // two entries a row: the plots are narrow in docks
    legend->setMargins(QMargins(2, 2, 2, 0));
    legend->setIconSize(16, 10);
    xAxis->setLabel(tr("layer"));
    setIntegerTicks(xAxis);
    PlotMenu::install(this, exportName);
    installPlotTheme(this);
}

void LayerCurvesPlot::setIntegerTicks(QCPAxis* axis) {
    auto ticker = QSharedPointer<QCPAxisTickerFixed>(new QCPAxisTickerFixed);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    axis->setTicker(ticker);
    axis->setSubTicks(false);
}

void LayerCurvesPlot::setLayerCount(int n) { xAxis->setRange(-0.5, std::max(1, n) - 0.5); }

QCPGraph* LayerCurvesPlot::addCurve(const QString& name, const QColor& color, bool rightAxis, Qt::PenStyle style) {
    if (rightAxis) yAxis2->setVisible(true);
    QCPGraph* g = addGraph(xAxis, rightAxis ? yAxis2 : yAxis);
    g->setName(name);
    g->setPen(QPen(color, 2, style));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
    return g;
}

QCPBars* LayerCurvesPlot::addBars(const QString& name, const QColor& color, bool rightAxis) {
    if (rightAxis) yAxis2->setVisible(true);
    auto* bars = new QCPBars(xAxis, rightAxis ? yAxis2 : yAxis);
    bars->setName(name);
    QColor fill = color;
    fill.setAlpha(150);
    bars->setBrush(fill);
    bars->setPen(Qt::NoPen);
    bars->setWidth(0.6);
    return bars;
}

void LayerCurvesPlot::addLayerBand(double from, double to, const QColor& color) {
    QCPItemRect* band = addBand(this, color, Qt::Vertical);
    band->setProperty(kDecoration, true);
    band->topLeft->setCoords(from, 0);
    band->bottomRight->setCoords(to, 1);
}

void LayerCurvesPlot::addValueBand(double lo, double hi, const QColor& color, const QString& label) {
    QCPItemRect* band = addBand(this, color, Qt::Horizontal);
    band->setProperty(kDecoration, true);
    band->topLeft->setCoords(0, hi);
    band->bottomRight->setCoords(1, lo);
    if (!label.isEmpty()) addLabel(label, 0.99, lo, Qt::AlignRight | Qt::AlignTop, color.darker(250));
}

void LayerCurvesPlot::addLabel(const QString& label, double xRatio, double y, Qt::Alignment align,
                               const QColor& color) {
    auto* text = new QCPItemText(this);
    text->setProperty(kDecoration, true);
    text->setText(label);
    text->setColor(color);
    text->setPositionAlignment(align);
    text->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(xRatio, y);
}

void LayerCurvesPlot::addValueLine(double y, const QPen& pen, const QString& label) {
    auto* line = new QCPItemStraightLine(this);
    line->setProperty(kDecoration, true);
    line->setPen(pen);
    line->point1->setCoords(0, y);
    line->point2->setCoords(1, y);
    if (!label.isEmpty()) addLabel(label, 0.01, y, Qt::AlignLeft | Qt::AlignBottom, pen.color());
}

void LayerCurvesPlot::addLayerLine(double x, const QPen& pen, const QString& label) {
    auto* line = new QCPItemStraightLine(this);
    line->setProperty(kDecoration, true);
    line->setLayer(QStringLiteral("background"));
    line->setPen(pen);
    line->point1->setCoords(x, 0);
    line->point2->setCoords(x, 1);
    if (label.isEmpty()) return;
    auto* text = new QCPItemText(this);
    text->setProperty(kDecoration, true);
    text->setText(label);
    text->setColor(pen.color());
    // Right of the line, or left of it past the middle, so the label stays inside the plot.
    const bool leftHalf = x <= (xAxis->range().lower + xAxis->range().upper) / 2;
    text->setPositionAlignment((leftHalf ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignBottom);
    text->setPadding(QMargins(4, 2, 4, 2));
    text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(x, 1.0);  // the bottom: sink curves sit near the top
}

void LayerCurvesPlot::clearDecorations() {
    for (int i = itemCount() - 1; i >= 0; --i)
        if (item(i)->property(kDecoration).toBool()) removeItem(i);
}

}  // namespace attnscope::widgets
