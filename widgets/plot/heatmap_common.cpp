#include "plot/heatmap_common.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnscope::widgets {

QCPColorMap* addCellMap(QCPAxis* x, QCPAxis* y) {
    auto* map = new QCPColorMap(x, y);
    map->setInterpolate(false);
    map->setTightBoundary(false);
    return map;
}

QCPColorScale* addColorBar(QCustomPlot* plot, int barWidth) {
    auto* scale = new QCPColorScale(plot);
    plot->plotLayout()->addElement(0, 1, scale);
    scale->setType(QCPAxis::atRight);
    scale->setRangeDrag(false);
    scale->setRangeZoom(false);
    scale->setBarWidth(barWidth);
    auto* margins = new QCPMarginGroup(plot);
    plot->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    scale->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    return scale;
}

ValueSpan finiteSpan(std::initializer_list<const Matrix2D*> matrices) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    ValueSpan span{kInf, -kInf, kInf};
    for (const Matrix2D* m : matrices) {
        for (float v : m->data) {
            if (!std::isfinite(v)) continue;
            span.max = std::max(span.max, v);
            span.min = std::min(span.min, v);
            if (v > 0.f) span.minPositive = std::min(span.minPositive, v);
        }
    }
    return span;
}

QCPItemRect* addCellOutline(QCustomPlot* plot) {
    auto* outline = new QCPItemRect(plot);
    outline->setVisible(false);
    outline->setBrush(Qt::NoBrush);
    outline->setPen(QPen(QColor(0xff, 0x45, 0x2e), 2.0));
    outline->setSelectable(false);
    return outline;
}

void outlineCells(QCPItemRect* outline, double col0, double row0, double col1, double row1) {
    outline->topLeft->setCoords(col0 - 0.5, row0 - 0.5);
    outline->bottomRight->setCoords(col1 - 0.5, row1 - 0.5);
}

void clampToCells(QCPAxis* axis, double lo, double hi) {
    QCPRange r = axis->range();
    if (r.size() >= hi - lo) r = QCPRange(lo, hi);
    else if (r.lower < lo) r = QCPRange(lo, lo + r.size());
    else if (r.upper > hi) r = QCPRange(hi - r.size(), hi);
    if (r.size() < 1.0) r = QCPRange(r.center() - 0.5, r.center() + 0.5);
    axis->setRange(r);
}

void CellView::show(QCPAxis* x, QCPAxis* y, double col0, double col1, double row0, double row1) {
    m_busy = true;
    x->setRange(col0 - 0.5, col1 - 0.5);
    y->setRange(row0 - 0.5, row1 - 0.5);
    m_busy = false;
}

void CellView::clamp(QCPAxis* x, QCPAxis* y, double col0, double col1, double row0, double row1) {
    m_busy = true;
    clampToCells(x, col0 - 0.5, col1 - 0.5);
    clampToCells(y, row0 - 0.5, row1 - 0.5);
    m_busy = false;
}

double axisLengthPx(const QCustomPlot* plot, const QCPAxis* axis, double fallbackShare) {
    const bool x = axis->orientation() == Qt::Horizontal;
    const int laidOut = x ? plot->axisRect()->width() : plot->axisRect()->height();
    return laidOut > 0 ? laidOut : (x ? plot->width() : plot->height()) * fallbackShare;
}

double pixelsPerCell(const QCPAxis* axis, double lengthPx) { return lengthPx / std::max(axis->range().size(), 1e-9); }

}  // namespace attnscope::widgets
