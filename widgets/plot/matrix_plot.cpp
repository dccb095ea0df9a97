#include "plot/matrix_plot.h"

#include <algorithm>
#include <cmath>

#include <QToolTip>

#include "plot/colormaps.h"
#include "plot/heatmap_common.h"
#include "plot/plot_menu.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {
namespace {

constexpr int kClickSlopPx = 4;  // a press and release closer than this is a click, not a drag

// 1, 2, 5, 10, 20, 50, ... at least n.
int niceStep(int n) {
    int base = 1;
    for (;;) {
        for (int m : {1, 2, 5})
            if (m * base >= n) return m * base;
        base *= 10;
    }
}

}  // namespace

MatrixPlot::MatrixPlot(QWidget* parent) : QCustomPlot(parent) {
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    xAxis->grid()->setVisible(false);
    yAxis->grid()->setVisible(false);
    yAxis->setRangeReversed(true);
    xAxis->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
    yAxis->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
    xAxis->setSubTicks(false);
    yAxis->setSubTicks(false);

    m_map = addCellMap(xAxis, yAxis);
    m_scale = addColorBar(this, 12);
    m_map->setColorScale(m_scale);
    setGradient(makeGradient(Colormap::Viridis));

    m_outline = addCellOutline(this);

    connect(xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, &MatrixPlot::onRangeChanged);
    connect(yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, &MatrixPlot::onRangeChanged);
    PlotMenu::install(this, QStringLiteral("matrix"))->setCsvProvider([this] { return csv(); });
    installPlotTheme(this);
    clearMatrix();
}

void MatrixPlot::setMatrix(const Matrix2D& matrix) {
    if (matrix.rows <= 0 || matrix.cols <= 0 || matrix.data.size() != size_t(matrix.rows * matrix.cols)) {
        clearMatrix();
        return;
    }
    const bool sameShape = matrix.rows == m_matrix.rows && matrix.cols == m_matrix.cols;
    m_matrix = matrix;
    fillCells();
    m_map->setVisible(true);
    if (!sameShape) resetView();  // keep the user's zoom when only the values change
    else {
        updateTicks();
        replot();
    }
}

void MatrixPlot::clearMatrix() {
    m_matrix = {};
    m_map->data()->setSize(0, 0);
    m_map->setVisible(false);
    m_outline->setVisible(false);
    xAxis->setRange(-0.5, 0.5);
    yAxis->setRange(-0.5, 0.5);
    updateTicks();
    replot();
}

void MatrixPlot::fillCells() {
    // A dimension of one cell is stored as two half cells: QCPColorMap draws a single
    // column or row with zero width.
    const int cols = int(m_matrix.cols), rows = int(m_matrix.rows);
    const int kc = std::max(cols, 2), kr = std::max(rows, 2);
    QCPColorMapData* d = m_map->data();
    d->setSize(kc, kr);
    d->setRange(cols > 1 ? QCPRange(0, cols - 1) : QCPRange(-0.25, 0.25),
                rows > 1 ? QCPRange(0, rows - 1) : QCPRange(-0.25, 0.25));
    for (int r = 0; r < kr; ++r)
        for (int c = 0; c < kc; ++c) d->setCell(c, r, m_matrix.at(std::min(r, rows - 1), std::min(c, cols - 1)));
    const ValueSpan span = finiteSpan({&m_matrix});
    const double lo = span.min, hi = span.max;
    QCPRange range;
    if (m_fixedRange) range = *m_fixedRange;
    else if (!std::isfinite(lo)) range = QCPRange(0, 1);
    else if (lo == hi) range = QCPRange(lo - 0.5, hi + 0.5);
    else range = QCPRange(lo, hi);
    m_map->setDataRange(range);
    m_scale->setDataRange(range);
}

void MatrixPlot::setRowLabels(const QStringList& labels) {
    m_rowLabels = labels;
    updateTicks();
    replot();
}

void MatrixPlot::setColumnLabels(const QStringList& labels) {
    m_colLabels = labels;
    m_widestFor = nullptr;
    updateTicks();
    replot();
}

QString MatrixPlot::rowLabel(int row) const {
    return row >= 0 && row < m_rowLabels.size() ? m_rowLabels[row] : QString::number(row);
}

QString MatrixPlot::columnLabel(int col) const {
    return col >= 0 && col < m_colLabels.size() ? m_colLabels[col] : QString::number(col);
}

void MatrixPlot::setNumbersWhenDense(bool rows, bool columns) {
    m_rowNumbersWhenDense = rows;
    m_colNumbersWhenDense = columns;
    updateTicks();
}

void MatrixPlot::setColumnLabelsVertical(bool vertical) {
    m_colVertical = vertical;
    updateTicks();
}

void MatrixPlot::setAxisTitles(const QString& columns, const QString& rows) {
    xAxis->setLabel(columns);
    yAxis->setLabel(rows);
}

void MatrixPlot::setValueTitle(const QString& title) { m_scale->axis()->setLabel(title); }

void MatrixPlot::setGradient(const QCPColorGradient& gradient) {
    m_map->setGradient(gradient);
    m_scale->setGradient(gradient);
}

void MatrixPlot::setValueRange(std::optional<QCPRange> range) {
    m_fixedRange = range;
    if (m_matrix.rows > 0) fillCells();
}

void MatrixPlot::setRowsTopDown(bool topDown) { yAxis->setRangeReversed(topDown); }

void MatrixPlot::setZoomable(Qt::Orientations orientations) {
    setInteractions(orientations ? QCP::iRangeDrag | QCP::iRangeZoom : QCP::Interactions());
    axisRect()->setRangeDrag(orientations);
    axisRect()->setRangeZoom(orientations);
}

void MatrixPlot::setCurrentCell(int row, int col) {
    m_currentRow = row;
    m_currentCol = col;
    updateOutline();
    replot(rpQueuedReplot);
}

void MatrixPlot::updateOutline() {
    const bool show = m_currentRow >= 0 && m_currentCol >= 0 && m_currentRow < m_matrix.rows &&
                      m_currentCol < m_matrix.cols;
    m_outline->setVisible(show);
    if (!show) return;
    outlineCells(m_outline, m_currentCol, m_currentRow, m_currentCol + 1, m_currentRow + 1);
}

void MatrixPlot::resetView() {
    m_cells.show(xAxis, yAxis, 0, std::max<double>(1, m_matrix.cols), 0, std::max<double>(1, m_matrix.rows));
    updateOutline();
    updateTicks();
    replot();
}

void MatrixPlot::onRangeChanged() {
    if (m_cells.busy() || m_matrix.rows <= 0) return;
    // Pan and zoom stay inside the matrix and never below one cell.
    m_cells.clamp(xAxis, yAxis, 0, double(m_matrix.cols), 0, double(m_matrix.rows));
    updateTicks();
}

void MatrixPlot::updateTicks() {
    const QFontMetricsF fm(xAxis->tickLabelFont());
    // Measured once per label set: ticks are updated on every pan and zoom step.
    auto widest = [this](const QStringList& labels, const QFontMetricsF& metrics) {
        if (m_widestFor != &labels || m_widestCount != labels.size()) {
            m_widest = 0;
            for (int i = 0; i < std::min<qsizetype>(labels.size(), 4096); ++i)
                m_widest = std::max(m_widest, metrics.horizontalAdvance(labels[i]));
            m_widestFor = &labels;
            m_widestCount = labels.size();
        }
        return m_widest;
    };
    auto update = [&](QCPAxis* axis, const QStringList& labels, int64_t n, bool numbers, bool across,
                      double lengthPx) {
        auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(axis->ticker());
        if (!ticker) return false;
        // Labels written along the axis need their width; labels across it their height.
        double need = fm.height() * 1.1;
        if (!across) need = std::max(need, widest(labels, fm) + 6);
        const QCPRange r = axis->range();
        const double pxPerCell = pixelsPerCell(axis, lengthPx);
        int step = niceStep(int(std::ceil(need / std::max(pxPerCell, 1e-9))));
        const bool useNumbers = labels.isEmpty() || (step > 1 && numbers);
        // Numbers are written upright: on the x axis they need their width, not the
        // height that vertical labels need ("80100120" otherwise).
        if (useNumbers && axis == xAxis) {
            const double numberPx = fm.horizontalAdvance(QString::number(std::max<int64_t>(n - 1, 0))) + 10;
            step = std::max(step, niceStep(int(std::ceil(numberPx / std::max(pxPerCell, 1e-9)))));
        }
        QMap<double, QString> ticks;
        const int64_t first = std::max<int64_t>(0, int64_t(std::floor(r.lower)));
        const int64_t last = std::min<int64_t>(n - 1, int64_t(std::ceil(r.upper)));
        for (int64_t i = first; i <= last; ++i) {
            if (i % step) continue;
            ticks.insert(double(i), useNumbers || i >= labels.size() ? QString::number(i) : labels[int(i)]);
        }
        ticker->setTicks(ticks);
        return !useNumbers;
    };
    const double w = axisLengthPx(this, xAxis, 0.7), h = axisLengthPx(this, yAxis, 0.7);
    const bool textX = update(xAxis, m_colLabels, m_matrix.cols, m_colNumbersWhenDense, m_colVertical, w);
    xAxis->setTickLabelRotation(textX && m_colVertical ? -90 : 0);
    update(yAxis, m_rowLabels, m_matrix.rows, m_rowNumbersWhenDense, true, h);
}

QPointF MatrixPlot::cellCenter(int row, int col) const {
    return {xAxis->coordToPixel(col), yAxis->coordToPixel(row)};
}

std::optional<QPoint> MatrixPlot::cellAt(const QPointF& pixel) const {
    if (m_matrix.rows <= 0 || !axisRect()->rect().contains(pixel.toPoint())) return std::nullopt;
    const int col = int(std::floor(xAxis->pixelToCoord(pixel.x()) + 0.5));
    const int row = int(std::floor(yAxis->pixelToCoord(pixel.y()) + 0.5));
    if (row < 0 || col < 0 || row >= m_matrix.rows || col >= m_matrix.cols) return std::nullopt;
    return QPoint(col, row);
}

QString MatrixPlot::csv() const {
    QStringList lines{QStringLiteral("row,row_label,column,column_label,value")};
    for (int r = 0; r < m_matrix.rows; ++r) {
        for (int c = 0; c < m_matrix.cols; ++c) {
            const float v = m_matrix.at(r, c);
            if (std::isnan(v)) continue;
            lines << QStringLiteral("%1,%2,%3,%4,%5")
                         .arg(r)
                         .arg(csvField(rowLabel(r)))
                         .arg(c)
                         .arg(csvField(columnLabel(c)), csvNumber(v));
        }
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

void MatrixPlot::mousePressEvent(QMouseEvent* event) {
    m_pressPos = event->position().toPoint();
    QCustomPlot::mousePressEvent(event);
}

void MatrixPlot::mouseReleaseEvent(QMouseEvent* event) {
    QCustomPlot::mouseReleaseEvent(event);
    if (event->button() != Qt::LeftButton ||
        (event->position().toPoint() - m_pressPos).manhattanLength() > kClickSlopPx)
        return;
    if (auto cell = cellAt(event->position())) {
        setCurrentCell(cell->y(), cell->x());
        emit cellClicked(cell->y(), cell->x());
        emit currentCellChanged(cell->y(), cell->x());
    }
}

void MatrixPlot::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    if (event->buttons() != Qt::NoButton) return;  // dragging
    const auto cell = cellAt(event->position());
    if (!cell) {
        QToolTip::hideText();
        emit cellHovered(-1, -1);
        return;
    }
    emit cellHovered(cell->y(), cell->x());
    if (m_describe) QToolTip::showText(event->globalPosition().toPoint(), m_describe(cell->y(), cell->x()), this);
}

void MatrixPlot::leaveEvent(QEvent* event) {
    emit cellHovered(-1, -1);
    QCustomPlot::leaveEvent(event);
}

void MatrixPlot::moveCurrent(int dRow, int dCol) {
    if (m_matrix.rows <= 0) return;
    const int row = std::clamp(std::max(m_currentRow, 0) + dRow, 0, int(m_matrix.rows) - 1);
    const int col = std::clamp(std::max(m_currentCol, 0) + dCol, 0, int(m_matrix.cols) - 1);
    if (row == m_currentRow && col == m_currentCol) return;
    setCurrentCell(row, col);
    emit currentCellChanged(row, col);
}

void MatrixPlot::keyPressEvent(QKeyEvent* event) {
    const int down = yAxis->rangeReversed() ? 1 : -1;  // row step of the Down key
    if (m_keys) {
        switch (event->key()) {
        case Qt::Key_Left: moveCurrent(0, -1); return;
        case Qt::Key_Right: moveCurrent(0, +1); return;
        case Qt::Key_Up: moveCurrent(-down, 0); return;
        case Qt::Key_Down: moveCurrent(down, 0); return;
        default: break;
        }
    }
    if (event->key() == Qt::Key_Home) {
        resetView();
        return;
    }
    QCustomPlot::keyPressEvent(event);
}

void MatrixPlot::resizeEvent(QResizeEvent* event) {
    QCustomPlot::resizeEvent(event);
    updateTicks();
    replot(rpQueuedReplot);
}

}  // namespace attnscope::widgets
