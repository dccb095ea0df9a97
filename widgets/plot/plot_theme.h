// Plot colours that follow the widget palette (light and dark themes), and the few fixed
// colours every panel shares (sink classes, curves), so the same thing looks the same
// everywhere.
#pragma once
#include <QColor>
#include <QObject>

class QCustomPlot;
class QCPAxis;
class QCPAxisRect;
class QCPGraph;
class QCPItemRect;
class QFont;
class QPalette;

namespace attnscope::widgets {

// Axes, grids, legend and background from the plot's palette and font; re-applied on
// palette and font changes. Call once after building the plot's layout.
void installPlotTheme(QCustomPlot* plot);
void applyPlotTheme(QCustomPlot* plot);
// One axis' line, ticks and labels: faint text colour, the font, bold titles.
void applyAxisTheme(QCPAxis* axis, const QPalette& palette, const QFont& font);

// Tableau-10 order: distinguishable on white and on dark grey.
QColor seriesColor(int index);

// A scatter-only graph (no line), for marks over maps and curves.
void makeScatter(QCPGraph* graph, int shape, const QColor& fill, double size, const QColor& outline = {});

// A filled band without outline on the background layer, running the whole length of the
// axis rect along `spanning` (that coordinate is the rect's ratio, 0 to 1; the other is in
// data units). Given `rect`, on its bottom and left axes and clipped to it; else on the
// plot's main axis rect.
QCPItemRect* addBand(QCustomPlot* plot, const QColor& fill, Qt::Orientation spanning, QCPAxisRect* rect = nullptr);

}  // namespace attnscope::widgets
