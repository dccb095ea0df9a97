#include "plot/attention_heatmap.h"

#include <algorithm>
#include <cmath>

#include <QFileInfo>
#include <QKeyEvent>

#include "plot/heatmap_common.h"
#include "plot/plot_menu.h"
#include "plot/plot_theme.h"

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

bool sameExtent(const HeatmapExtent& a, const HeatmapExtent& b) {
    return a.q0 == b.q0 && a.q1 == b.q1 && a.k0 == b.k0 && a.k1 == b.k1;
}

// Pooled cells follow core's overview: position p of n falls in cell floor(p * cells / n),
// so cell j starts at ceil(j * n / cells). Exact tiles get one position per cell.
std::optional<HeatmapCell> cellIn(const Matrix2D& m, const HeatmapExtent& e, int row, int col) {
    if (row < 0 || col < 0 || row >= m.rows || col >= m.cols) return std::nullopt;
    const int64_t nq = e.q1 - e.q0, nk = e.k1 - e.k0;
    auto edge = [](int64_t j, int64_t n, int64_t cells) { return (j * n + cells - 1) / cells; };
    HeatmapCell cell;
    cell.query0 = e.q0 + edge(row, nq, m.rows);
    cell.query1 = std::max(cell.query0 + 1, e.q0 + edge(row + 1, nq, m.rows));
    cell.key0 = e.k0 + edge(col, nk, m.cols);
    cell.key1 = std::max(cell.key0 + 1, e.k0 + edge(col + 1, nk, m.cols));
    cell.value = m.at(row, col);
    cell.masked = cell.key0 > cell.query1 - 1;
    return cell;
}

// The cell of `m` (covering `e`) under plot coordinates (x, y).
std::optional<HeatmapCell> cellAtCoord(const Matrix2D& m, const HeatmapExtent& e, double x, double y) {
    if (m.rows <= 0 || m.cols <= 0) return std::nullopt;
    const double bw = double(e.k1 - e.k0) / double(m.cols), bh = double(e.q1 - e.q0) / double(m.rows);
    const int col = int(std::floor((x + 0.5 - double(e.k0)) / bw));
    const int row = int(std::floor((y + 0.5 - double(e.q0)) / bh));
    return cellIn(m, e, row, col);
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

    m_map = addCellMap(xAxis, yAxis);
    m_detailMap = addCellMap(xAxis, yAxis);  // added later: drawn on top
    m_detailMap->setVisible(false);

    m_colorScale = addColorBar(this, 14);
    m_colorScale->axis()->setLabel(tr("attention probability"));
    m_map->setColorScale(m_colorScale);
    m_detailMap->setColorScale(m_colorScale);

    m_selection = addCellOutline(this);

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

void AttentionHeatmap::setMatrix(const Matrix2D& matrix, const HeatmapExtent& extent) {
    if (matrix.rows <= 0 || matrix.cols <= 0 ||
        matrix.data.size() != size_t(matrix.rows * matrix.cols)) {
        clearMatrix();
        return;
    }
    HeatmapExtent e = extent;
    if (e.q1 <= e.q0 || e.k1 <= e.k0) e = {0, matrix.rows, 0, matrix.cols};
    const bool keepView = m_matrix.rows > 0 && sameExtent(e, m_extent);
    m_matrix = matrix;
    m_extent = e;
    m_detail = {};  // belonged to the previous matrix
    m_detailMap->setVisible(false);
    m_map->setVisible(true);
    fillCells();
    if (!keepView) {
        resetView();
        return;
    }
    updateSelectionOutline();
    replot();
    emitViewport();  // the same view of another layer/head wants its own fine tile
}

bool AttentionHeatmap::isExact() const {
    return m_matrix.rows == m_extent.q1 - m_extent.q0 && m_matrix.cols == m_extent.k1 - m_extent.k0;
}

void AttentionHeatmap::setDetail(const Matrix2D& matrix, const HeatmapExtent& extent) {
    if (m_matrix.rows <= 0 || matrix.rows <= 0 || matrix.cols <= 0 ||
        matrix.data.size() != size_t(matrix.rows * matrix.cols) || extent.q1 <= extent.q0 ||
        extent.k1 <= extent.k0) {
        clearDetail();
        return;
    }
    m_detail = matrix;
    m_detailExtent = extent;
    m_detailMap->setVisible(true);
    fillCells();  // the base hides under the tile
    replot();
}

void AttentionHeatmap::clearDetail() {
    if (m_detail.rows == 0) return;
    m_detail = {};
    m_detailExtent = {};
    m_detailMap->data()->setSize(0, 0);
    m_detailMap->setVisible(false);
    fillCells();  // the base shows again where the tile was
    replot();
}

HeatmapExtent AttentionHeatmap::visibleExtent() const {
    const QCPRange x = xAxis->range(), y = yAxis->range();
    auto lo = [](double v, int64_t min) { return std::max(min, int64_t(std::floor(v + 0.5))); };
    auto hi = [](double v, int64_t max) { return std::min(max, int64_t(std::ceil(v + 0.5))); };
    return {lo(y.lower, m_extent.q0), hi(y.upper, m_extent.q1), lo(x.lower, m_extent.k0),
            hi(x.upper, m_extent.k1)};
}

void AttentionHeatmap::setView(const HeatmapExtent& view) {
    if (m_matrix.rows <= 0) return;
    m_cells.show(xAxis, yAxis, double(std::max(view.k0, m_extent.k0)), double(std::min(view.k1, m_extent.k1)),
                 double(std::max(view.q0, m_extent.q0)), double(std::min(view.q1, m_extent.q1)));
    onRangeChanged();
    replot();
}

void AttentionHeatmap::emitViewport() {
    if (m_matrix.rows <= 0 || isExact()) return;
    const HeatmapExtent v = visibleExtent();
    if (sameExtent(v, m_extent)) {
        clearDetail();  // zoomed out: the base shows everything there is
        return;
    }
    emit viewportChanged(v, axisRect()->width(), axisRect()->height());
}

void AttentionHeatmap::clearMatrix() {
    m_matrix = {};
    m_extent = {};
    m_detail = {};
    m_detailExtent = {};
    m_map->data()->setSize(0, 0);
    m_map->setVisible(false);
    m_detailMap->data()->setSize(0, 0);
    m_detailMap->setVisible(false);
    m_selection->setVisible(false);
    xAxis->setRange(-0.5, 9.5);
    yAxis->setRange(-0.5, 9.5);
    replot();
}

void AttentionHeatmap::fillCells(bool refillBase) {
    // One colour range for base and detail, so a fetched tile does not change the meaning
    // of a colour under it.
    const auto [minV, maxV, minPositive] = finiteSpan({&m_matrix, &m_detail});
    const double oldMax = m_maxValue, oldFloor = m_logFloor;
    m_maxValue = maxV > 0.f ? double(maxV) : 1.0;
    m_logFloor = std::isfinite(minPositive) ? std::max(double(minPositive), m_maxValue * kLogDynamicRange)
                                            : m_maxValue * kLogDynamicRange;
    if (m_logFloor >= m_maxValue) m_logFloor = m_maxValue * 0.1;
    const bool log = m_scale == ColorScale::Log;
    // A new tile alone leaves the base as it is unless the range it is drawn in moved.
    if (refillBase || oldMax != m_maxValue || (log && oldFloor != m_logFloor)) fillMap(m_map, m_matrix, m_extent);
    if (m_detail.rows > 0) fillMap(m_detailMap, m_detail, m_detailExtent);

    const QCPAxis::ScaleType type = log ? QCPAxis::stLogarithmic : QCPAxis::stLinear;
    m_colorScale->setDataScaleType(type);
    m_map->setDataScaleType(type);
    m_detailMap->setDataScaleType(type);
    QSharedPointer<QCPAxisTicker> ticker;
    if (log) ticker.reset(new QCPAxisTickerLog);
    else ticker.reset(new QCPAxisTicker);
    m_colorScale->axis()->setTicker(ticker);
    const double lower = log ? m_logFloor : std::min(0.0, std::isfinite(minV) ? double(minV) : 0.0);
    for (QCPColorMap* map : {m_map, m_detailMap}) map->setDataRange(QCPRange(lower, m_maxValue));
    m_colorScale->setDataRange(QCPRange(lower, m_maxValue));
}

void AttentionHeatmap::fillMap(QCPColorMap* map, const Matrix2D& m, const HeatmapExtent& e) const {
    // Cell centres sit on token positions (exact) or on block centres (pooled).
    const double bw = double(e.k1 - e.k0) / double(m.cols), bh = double(e.q1 - e.q0) / double(m.rows);
    QCPColorMapData* d = map->data();
    d->setSize(int(m.cols), int(m.rows));
    d->setRange(QCPRange(e.k0 + 0.5 * bw - 0.5, e.k0 + (m.cols - 0.5) * bw - 0.5),
                QCPRange(e.q0 + 0.5 * bh - 0.5, e.q0 + (m.rows - 0.5) * bh - 0.5));
    d->clearAlpha();
    const bool log = m_scale == ColorScale::Log;
    // Block edges once (cellIn's arithmetic per row/column, not per cell): a tile of the
    // screen's size has ~10^6 cells and lands on the GUI thread.
    std::vector<int64_t> key0(static_cast<size_t>(m.cols)), query1(static_cast<size_t>(m.rows));
    for (int c = 0; c < m.cols; ++c) key0[size_t(c)] = cellIn(m, e, 0, c)->key0;
    for (int r = 0; r < m.rows; ++r) query1[size_t(r)] = cellIn(m, e, r, 0)->query1;
    for (int64_t r = 0; r < m.rows; ++r) {
        for (int64_t c = 0; c < m.cols; ++c) {
            double v = m.at(r, c);
            // log(0) has no colour: zeros (and tinier values) are drawn at the floor.
            if (log && !(v >= m_logFloor) && !std::isnan(v)) v = m_logFloor;
            d->setCell(int(c), int(r), v);
        }
        if (!m_causalMask) continue;
        // Keys start later column by column: the masked cells are a suffix of the row.
        const auto first = std::upper_bound(key0.begin(), key0.end(), query1[size_t(r)] - 1);
        for (auto it = first; it != key0.end(); ++it) d->setAlpha(int(it - key0.begin()), int(r), 0);
    }
    // Under a finer tile the base is hidden: the tile's masked (transparent) cells must show
    // the background, not the pooled blocks that straddle the diagonal below them.
    if (map != m_map || m_detail.rows <= 0) return;
    const HeatmapExtent& t = m_detailExtent;
    for (int r = 0; r < m.rows; ++r) {
        const HeatmapCell row = *cellIn(m, e, r, 0);
        if (row.query1 <= t.q0 || row.query0 >= t.q1) continue;
        for (int c = 0; c < m.cols; ++c) {
            const int64_t k1 = c + 1 < m.cols ? key0[size_t(c + 1)] : e.k1;
            // Blocks wholly below the diagonal stay: the tile covers them where they overlap.
            if (key0[size_t(c)] < t.k1 && k1 > t.k0 && k1 - 1 > row.query0) d->setAlpha(c, r, 0);
        }
    }
}

std::optional<HeatmapCell> AttentionHeatmap::cellAt(int row, int col) const {
    return cellIn(m_matrix, m_extent, row, col);
}

std::optional<HeatmapCell> AttentionHeatmap::cellAtPixel(const QPointF& pixel) const {
    if (m_matrix.rows <= 0 || !axisRect()->rect().contains(pixel.toPoint())) return std::nullopt;
    const double x = xAxis->pixelToCoord(pixel.x());
    const double y = yAxis->pixelToCoord(pixel.y());
    // The finer tile wins where it covers the cursor.
    if (m_detail.rows > 0)
        if (auto cell = cellAtCoord(m_detail, m_detailExtent, x, y)) return cell;
    return cellAtCoord(m_matrix, m_extent, x, y);
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
    m_selectedKey = -1;
    updateSelectionOutline();
    replot();
}

void AttentionHeatmap::setSelectedKey(int64_t key) {
    m_selectedKey = key;
    m_selectedQuery = -1;
    updateSelectionOutline();
    replot();
}

void AttentionHeatmap::updateSelectionOutline() {
    const bool row = m_matrix.rows > 0 && m_selectedQuery >= m_extent.q0 && m_selectedQuery < m_extent.q1;
    const bool col = m_matrix.rows > 0 && m_selectedKey >= m_extent.k0 && m_selectedKey < m_extent.k1;
    m_selection->setVisible(row || col);
    if (row) outlineCells(m_selection, m_extent.k0, m_selectedQuery, m_extent.k1, m_selectedQuery + 1);
    else if (col) outlineCells(m_selection, m_selectedKey, m_extent.q0, m_selectedKey + 1, m_extent.q1);
}

void AttentionHeatmap::resetView() {
    if (m_matrix.rows > 0)
        m_cells.show(xAxis, yAxis, double(m_extent.k0), double(m_extent.k1), double(m_extent.q0), double(m_extent.q1));
    updateSelectionOutline();
    updateTickers();
    replot();
    emitViewport();
}

void AttentionHeatmap::onRangeChanged() {
    if (m_cells.busy() || m_matrix.rows <= 0) return;
    // Pan and zoom stay inside the matrix: nothing to see outside it.
    m_cells.clamp(xAxis, yAxis, double(m_extent.k0), double(m_extent.k1), double(m_extent.q0), double(m_extent.q1));
    updateTickers();
    emitViewport();
}

void AttentionHeatmap::updateTickers() {
    const double labelPx = QFontMetricsF(xAxis->tickLabelFont()).height() * kMinPixelsPerLabel;
    const bool canLabel = !m_labels.isEmpty() && m_matrix.rows > 0;
    const bool textX = canLabel && pixelsPerCell(xAxis, axisLengthPx(this, xAxis, 0.8)) >= labelPx;
    const bool textY = canLabel && pixelsPerCell(yAxis, axisLengthPx(this, yAxis, 0.8)) >= labelPx;
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
    setBackground(pal.color(QPalette::Window));
    // Masked cells are transparent: they show this, not the colour of zero.
    axisRect()->setBackground(pal.color(QPalette::AlternateBase));
    for (QCPAxis* axis : {xAxis, yAxis, xAxis2, yAxis2, m_colorScale->axis()}) applyAxisTheme(axis, pal, font());
}

void AttentionHeatmap::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
    case Qt::Key_Left: emit headStepRequested(-1); return;
    case Qt::Key_Right: emit headStepRequested(+1); return;
    case Qt::Key_Up: emit layerStepRequested(-1); return;
    case Qt::Key_Down: emit layerStepRequested(+1); return;
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
