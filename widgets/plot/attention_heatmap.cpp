#include "plot/attention_heatmap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QFileInfo>
#include <QKeyEvent>

#include "plot/plot_menu.h"

namespace attnscope::widgets {
namespace {

// Below this many pixels per token the axis falls back to numbers.
constexpr double kMinPixelsPerLabel = 1.15;  // times the tick label font height
constexpr int kMaxLabelChars = 14;
// Log scale floor relative to the maximum: probabilities below it are not worth a colour.
constexpr double kLogDynamicRange = 1e-6;

QString shortLabel(const QString& s) {
    return s.size() <= kMaxLabelChars ? s : s.left(kMaxLabelChars - 1) + QChar(0x2026);
}

}  // namespace

AttentionHeatmap::AttentionHeatmap(QWidget* parent) : QCustomPlot(parent) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setNoAntialiasingOnDrag(true);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);

    xAxis->setLabel(tr("key position"));
    yAxis->setLabel(tr("query position"));
    yAxis->setRangeReversed(true);  // query 0 at the top, like a matrix
    xAxis->grid()->setVisible(false);
    yAxis->grid()->setVisible(false);

    m_map = new QCPColorMap(xAxis, yAxis);
    m_map->setInterpolate(false);
    m_map->setTightBoundary(false);

    m_colorScale = new QCPColorScale(this);
    plotLayout()->addElement(0, 1, m_colorScale);
    m_colorScale->setType(QCPAxis::atRight);
    m_colorScale->setRangeDrag(false);
    m_colorScale->setRangeZoom(false);
    m_colorScale->setBarWidth(14);
    m_colorScale->axis()->setLabel(tr("attention probability"));
    m_map->setColorScale(m_colorScale);
    auto* margins = new QCPMarginGroup(this);
    axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    m_colorScale->setMarginGroup(QCP::msTop | QCP::msBottom, margins);

    m_selection = new QCPItemRect(this);
    m_selection->setVisible(false);
    m_selection->setBrush(Qt::NoBrush);
    m_selection->setSelectable(false);

    m_textTickerX.reset(new QCPAxisTickerText);
    m_textTickerY.reset(new QCPAxisTickerText);
    m_numberTickerX.reset(new QCPAxisTickerFixed);
    m_numberTickerY.reset(new QCPAxisTickerFixed);
    for (auto& t : {m_numberTickerX, m_numberTickerY}) {
        t->setTickStep(1.0);
        t->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);  // integer positions only
    }
    xAxis->setTicker(m_numberTickerX);
    yAxis->setTicker(m_numberTickerY);

    setColormap(m_colormap);
    PlotMenu::install(this, QStringLiteral("attention"))->setCsvProvider([this] { return csv(); });
    connect(this, &QCustomPlot::mouseMove, this, &AttentionHeatmap::onMouseMove);
    connect(xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            &AttentionHeatmap::onRangeChanged);
    connect(yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            &AttentionHeatmap::onRangeChanged);
    applyPalette();
    clearMatrix();
}

double AttentionHeatmap::cellWidth() const {
    return m_matrix.cols > 0 ? double(m_extent.k1 - m_extent.k0) / double(m_matrix.cols) : 1.0;
}

double AttentionHeatmap::cellHeight() const {
    return m_matrix.rows > 0 ? double(m_extent.q1 - m_extent.q0) / double(m_matrix.rows) : 1.0;
}

void AttentionHeatmap::setMatrix(const Matrix2D& matrix, const HeatmapExtent& extent) {
    if (matrix.rows <= 0 || matrix.cols <= 0 ||
        matrix.data.size() != size_t(matrix.rows * matrix.cols)) {
        clearMatrix();
        return;
    }
    m_matrix = matrix;
    m_extent = extent;
    if (m_extent.q1 <= m_extent.q0 || m_extent.k1 <= m_extent.k0)
        m_extent = {0, matrix.rows, 0, matrix.cols};

    // Cell centres sit on token positions (exact) or on block centres (pooled).
    const double bw = cellWidth(), bh = cellHeight();
    QCPColorMapData* d = m_map->data();
    d->setSize(int(matrix.cols), int(matrix.rows));
    d->setRange(QCPRange(m_extent.k0 + 0.5 * bw - 0.5, m_extent.k0 + (matrix.cols - 0.5) * bw - 0.5),
                QCPRange(m_extent.q0 + 0.5 * bh - 0.5, m_extent.q0 + (matrix.rows - 0.5) * bh - 0.5));
    m_map->setVisible(true);
    fillCells();
    resetView();
}

void AttentionHeatmap::clearMatrix() {
    m_matrix = {};
    m_extent = {};
    m_map->data()->setSize(0, 0);
    m_map->setVisible(false);
    m_selection->setVisible(false);
    xAxis->setRange(-0.5, 9.5);
    yAxis->setRange(-0.5, 9.5);
    replot();
}

void AttentionHeatmap::fillCells() {
    float maxV = -std::numeric_limits<float>::infinity();
    float minV = std::numeric_limits<float>::infinity();
    float minPositive = std::numeric_limits<float>::infinity();
    for (float v : m_matrix.data) {
        if (!std::isfinite(v)) continue;
        maxV = std::max(maxV, v);
        minV = std::min(minV, v);
        if (v > 0.f) minPositive = std::min(minPositive, v);
    }
    m_maxValue = maxV > 0.f ? double(maxV) : 1.0;
    m_logFloor = std::isfinite(minPositive) ? std::max(double(minPositive), m_maxValue * kLogDynamicRange)
                                            : m_maxValue * kLogDynamicRange;
    if (m_logFloor >= m_maxValue) m_logFloor = m_maxValue * 0.1;
    const bool log = m_scale == ColorScale::Log;

    QCPColorMapData* d = m_map->data();
    d->clearAlpha();
    for (int64_t r = 0; r < m_matrix.rows; ++r) {
        for (int64_t c = 0; c < m_matrix.cols; ++c) {
            double v = m_matrix.at(r, c);
            // log(0) has no colour: zeros (and tinier values) are drawn at the floor.
            if (log && !(v >= m_logFloor) && !std::isnan(v)) v = m_logFloor;
            d->setCell(int(c), int(r), v);
            if (m_causalMask && cellAt(int(r), int(c))->masked) d->setAlpha(int(c), int(r), 0);
        }
    }
    const QCPAxis::ScaleType type = log ? QCPAxis::stLogarithmic : QCPAxis::stLinear;
    m_colorScale->setDataScaleType(type);
    m_map->setDataScaleType(type);
    QSharedPointer<QCPAxisTicker> ticker;
    if (log) ticker.reset(new QCPAxisTickerLog);
    else ticker.reset(new QCPAxisTicker);
    m_colorScale->axis()->setTicker(ticker);
    const double lower = log ? m_logFloor : std::min(0.0, std::isfinite(minV) ? double(minV) : 0.0);
    m_map->setDataRange(QCPRange(lower, m_maxValue));
    m_colorScale->setDataRange(QCPRange(lower, m_maxValue));
}

std::optional<HeatmapCell> AttentionHeatmap::cellAt(int row, int col) const {
    if (row < 0 || col < 0 || row >= m_matrix.rows || col >= m_matrix.cols) return std::nullopt;
    // Pooled cells follow core's overview: position p of n falls in cell floor(p * cells / n),
    // so cell j starts at ceil(j * n / cells). Exact tiles get one position per cell.
    const int64_t nq = m_extent.q1 - m_extent.q0, nk = m_extent.k1 - m_extent.k0;
    auto edge = [](int64_t j, int64_t n, int64_t cells) { return (j * n + cells - 1) / cells; };
    HeatmapCell cell;
    cell.query0 = m_extent.q0 + edge(row, nq, m_matrix.rows);
    cell.query1 = std::max(cell.query0 + 1, m_extent.q0 + edge(row + 1, nq, m_matrix.rows));
    cell.key0 = m_extent.k0 + edge(col, nk, m_matrix.cols);
    cell.key1 = std::max(cell.key0 + 1, m_extent.k0 + edge(col + 1, nk, m_matrix.cols));
    cell.value = m_matrix.at(row, col);
    cell.masked = cell.key0 > cell.query1 - 1;
    return cell;
}

std::optional<HeatmapCell> AttentionHeatmap::cellAtPixel(const QPointF& pixel) const {
    if (m_matrix.rows <= 0 || !axisRect()->rect().contains(pixel.toPoint())) return std::nullopt;
    const double x = xAxis->pixelToCoord(pixel.x());
    const double y = yAxis->pixelToCoord(pixel.y());
    const int col = int(std::floor((x + 0.5 - m_extent.k0) / cellWidth()));
    const int row = int(std::floor((y + 0.5 - m_extent.q0) / cellHeight()));
    return cellAt(row, col);
}

void AttentionHeatmap::onMouseMove(QMouseEvent* event) {
    if (auto cell = cellAtPixel(event->position())) emit cellHovered(*cell);
    else emit hoverLeft();
}

void AttentionHeatmap::setTokenLabels(const QStringList& labels) {
    m_labels = labels;
    QMap<double, QString> ticks;
    for (int i = 0; i < labels.size(); ++i) ticks.insert(double(i), shortLabel(labels[i]));
    m_textTickerX->setTicks(ticks);
    m_textTickerY->setTicks(ticks);
    m_textTickerX->setSubTickCount(0);
    m_textTickerY->setSubTickCount(0);
    updateTickers();
    replot();
}

void AttentionHeatmap::setColorScaleType(ColorScale scale) {
    if (scale == m_scale) return;
    m_scale = scale;
    m_colorScale->axis()->setLabel(scale == ColorScale::Log ? tr("attention probability (log)")
                                                            : tr("attention probability"));
    if (m_matrix.rows > 0) fillCells();
    replot();
}

void AttentionHeatmap::setColormap(Colormap map) {
    m_colormap = map;
    m_colorScale->setGradient(makeGradient(map));
    m_map->setGradient(makeGradient(map));
    replot();
}

void AttentionHeatmap::setCausalMask(bool on) {
    if (on == m_causalMask) return;
    m_causalMask = on;
    if (m_matrix.rows > 0) fillCells();
    replot();
}

void AttentionHeatmap::setSelectedQuery(int64_t query) {
    m_selectedQuery = query;
    updateSelectionOutline();
    replot();
}

void AttentionHeatmap::updateSelectionOutline() {
    const bool show = m_matrix.rows > 0 && m_selectedQuery >= m_extent.q0 && m_selectedQuery < m_extent.q1;
    m_selection->setVisible(show);
    if (!show) return;
    m_selection->topLeft->setCoords(m_extent.k0 - 0.5, m_selectedQuery - 0.5);
    m_selection->bottomRight->setCoords(m_extent.k1 - 0.5, m_selectedQuery + 0.5);
}

void AttentionHeatmap::resetView() {
    m_clamping = true;
    if (m_matrix.rows > 0) {
        xAxis->setRange(m_extent.k0 - 0.5, m_extent.k1 - 0.5);
        yAxis->setRange(m_extent.q0 - 0.5, m_extent.q1 - 0.5);
    }
    m_clamping = false;
    updateSelectionOutline();
    updateTickers();
    replot();
}

void AttentionHeatmap::onRangeChanged() {
    if (m_clamping || m_matrix.rows <= 0) return;
    // Pan and zoom stay inside the matrix: nothing to see outside it.
    m_clamping = true;
    auto clamp = [](QCPAxis* axis, double lo, double hi) {
        QCPRange r = axis->range();
        if (r.size() >= hi - lo) r = QCPRange(lo, hi);
        else if (r.lower < lo) r = QCPRange(lo, lo + r.size());
        else if (r.upper > hi) r = QCPRange(hi - r.size(), hi);
        if (r.size() < 1.0) r = QCPRange(r.center() - 0.5, r.center() + 0.5);
        axis->setRange(r);
    };
    clamp(xAxis, m_extent.k0 - 0.5, m_extent.k1 - 0.5);
    clamp(yAxis, m_extent.q0 - 0.5, m_extent.q1 - 0.5);
    m_clamping = false;
    updateTickers();
}

void AttentionHeatmap::updateTickers() {
    const double labelPx = QFontMetricsF(xAxis->tickLabelFont()).height() * kMinPixelsPerLabel;
    const double wPx = axisRect()->width() > 0 ? axisRect()->width() : width() * 0.8;
    const double hPx = axisRect()->height() > 0 ? axisRect()->height() : height() * 0.8;
    const bool canLabel = !m_labels.isEmpty() && m_matrix.rows > 0;
    const bool textX = canLabel && wPx / xAxis->range().size() >= labelPx;
    const bool textY = canLabel && hPx / yAxis->range().size() >= labelPx;
    if (textX != m_textTicksX) {
        m_textTicksX = textX;
        xAxis->setTicker(textX ? QSharedPointer<QCPAxisTicker>(m_textTickerX)
                               : QSharedPointer<QCPAxisTicker>(m_numberTickerX));
        xAxis->setTickLabelRotation(textX ? -90 : 0);
    }
    if (textY != m_textTicksY) {
        m_textTicksY = textY;
        yAxis->setTicker(textY ? QSharedPointer<QCPAxisTicker>(m_textTickerY)
                               : QSharedPointer<QCPAxisTicker>(m_numberTickerY));
    }
}

void AttentionHeatmap::applyPalette() {
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::WindowText);
    QColor faint = text;
    faint.setAlphaF(0.6f);
    setBackground(pal.color(QPalette::Window));
    // Masked cells are transparent: they show this, not the colour of zero.
    axisRect()->setBackground(pal.color(QPalette::AlternateBase));
    for (QCPAxis* axis : {xAxis, yAxis, xAxis2, yAxis2, m_colorScale->axis()}) {
        axis->setBasePen(QPen(faint));
        axis->setTickPen(QPen(faint));
        axis->setSubTickPen(QPen(faint));
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
        axis->setTickLabelFont(font());
        QFont labelFont = font();
        labelFont.setBold(true);
        axis->setLabelFont(labelFont);
    }
    m_selection->setPen(QPen(QColor(0xff, 0x45, 0x2e), 2.0));
}

void AttentionHeatmap::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
    case Qt::Key_Left: emit headStepRequested(-1); return;
    case Qt::Key_Right: emit headStepRequested(+1); return;
    case Qt::Key_Home: resetView(); return;
    default: QCustomPlot::keyPressEvent(event);
    }
}

void AttentionHeatmap::leaveEvent(QEvent* event) {
    emit hoverLeft();
    QCustomPlot::leaveEvent(event);
}

void AttentionHeatmap::changeEvent(QEvent* event) {
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        applyPalette();
        replot();
    }
    QCustomPlot::changeEvent(event);
}

void AttentionHeatmap::resizeEvent(QResizeEvent* event) {
    QCustomPlot::resizeEvent(event);  // lays out immediately, so the axis rect is current
    const bool x = m_textTicksX, y = m_textTicksY;
    updateTickers();
    if (x != m_textTicksX || y != m_textTicksY) replot(rpQueuedReplot);
}

void AttentionHeatmap::mouseDoubleClickEvent(QMouseEvent* event) {
    resetView();
    QCustomPlot::mouseDoubleClickEvent(event);
}

bool AttentionHeatmap::exportTo(const QString& path, int width, int height) {
    return exportPlot(this, path, 96, QSize(width, height));
}

QString AttentionHeatmap::csv() const {
    // Wide, like the matrix on screen: one row per query (block), one column per key (block).
    auto label = [this](int64_t p0, int64_t p1) {
        if (p1 - p0 > 1) return QStringLiteral("%1-%2").arg(p0).arg(p1 - 1);
        const QString token = p0 < m_labels.size() ? m_labels[int(p0)] : QString();
        return token.isEmpty() ? QString::number(p0) : QStringLiteral("%1 %2").arg(p0).arg(token);
    };
    QStringList lines;
    QStringList header{QStringLiteral("query/key")};
    for (int c = 0; c < m_matrix.cols; ++c) {
        const HeatmapCell cell = *cellAt(0, c);
        header << csvField(label(cell.key0, cell.key1));
    }
    lines << header.join(QLatin1Char(','));
    for (int r = 0; r < m_matrix.rows; ++r) {
        const HeatmapCell first = *cellAt(r, 0);
        QStringList row{csvField(label(first.query0, first.query1))};
        for (int c = 0; c < m_matrix.cols; ++c) row << csvNumber(m_matrix.at(r, c));
        lines << row.join(QLatin1Char(','));
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

}  // namespace attnscope::widgets
