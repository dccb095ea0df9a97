// What AttentionHeatmap and MatrixPlot share: one exact colour-map cell per value (cell
// centres on integer coordinates), a fixed colour bar at the right, the colour range's scan
// over the values, the outline of selected cells, and views that stay inside the cells.
#pragma once
#include <initializer_list>

#include <qcustomplot.h>

#include "attnscope/views.h"

namespace attnscope::widgets {

// A colour map on (x, y) that draws every cell as a flat rectangle (no interpolation), with
// the outer cells drawn whole.
QCPColorMap* addCellMap(QCPAxis* x, QCPAxis* y);

// A colour bar of `barWidth` pixels right of the main axis rect, its top and bottom aligned
// with the rect's; the bar itself neither drags nor zooms.
QCPColorScale* addColorBar(QCustomPlot* plot, int barWidth);

// The finite values' minimum and maximum and the smallest positive value over `matrices`
// (NaN and infinities skipped); each stays infinite (min, minPositive +inf, max -inf) when
// there is no such value.
struct ValueSpan {
    float min, max, minPositive;
};
ValueSpan finiteSpan(std::initializer_list<const Matrix2D*> matrices);

// A hidden outline (no fill, 2 px, the selection colour) for selected cells.
QCPItemRect* addCellOutline(QCustomPlot* plot);
// Shows `outline` around the cells of columns [col0, col1) and rows [row0, row1).
void outlineCells(QCPItemRect* outline, double col0, double row0, double col1, double row1);

// Keeps `axis` inside [lo, hi] (the whole of it when zoomed out further) and at least one
// cell wide; the caller guards against the rangeChanged this emits.
void clampToCells(QCPAxis* axis, double lo, double hi);

// What a plot's axes show of a cell grid (cells [col0, col1) x [row0, row1), centres on
// integers). Setting a range emits rangeChanged; busy() is true meanwhile, so the plot's
// handler leaves its own change alone.
class CellView {
public:
    bool busy() const { return m_busy; }
    // Shows exactly cells [col0, col1) x [row0, row1).
    void show(QCPAxis* x, QCPAxis* y, double col0, double col1, double row0, double row1);
    // Keeps the axes inside cells [col0, col1) x [row0, row1) (clampToCells).
    void clamp(QCPAxis* x, QCPAxis* y, double col0, double col1, double row0, double row1);

private:
    bool m_busy = false;
};

// The length of `axis` on screen in pixels; before the first layout, when the axis rect
// has no size yet, `fallbackShare` of the widget's width (x) or height (y).
double axisLengthPx(const QCustomPlot* plot, const QCPAxis* axis, double fallbackShare);
// Pixels per unit of `axis` (per cell) over `lengthPx`.
double pixelsPerCell(const QCPAxis* axis, double lengthPx);

}  // namespace attnscope::widgets
