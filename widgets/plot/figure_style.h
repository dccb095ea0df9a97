// The publication style shared by every exported figure and, on request, every plot on
// screen: one font family, fixed point sizes, line widths and margins, a white page.
//   Light: for slides and the web (11 pt text, 1.5 px lines).
//   Print: for papers (9 pt text, black axes, thicker lines, tight margins).
//   Presentation: teaching mode and projectors (18 pt text, 3.5 px lines, black on white).
#pragma once
#include <QString>

class QCustomPlot;

namespace attnscope::widgets {

enum class FigureStyle;  // panel_registry.h: Screen, Light, Print, Presentation

struct FigureStyleSpec {
    QString family;          // resolved font family
    double basePt = 11;      // tick labels, legend
    double labelPt = 12;     // axis titles (bold)
    double axisWidth = 1.0;  // axis and tick pens
    double lineWidth = 1.5;  // graph pens (scaled up from the screen's width, never down)
    int margin = 8;          // outer margin of the layout, px
};
FigureStyleSpec figureStyleSpec(FigureStyle style);
QString figureStyleName(FigureStyle style);  // "screen", "light", "print", "presentation"
// Throws attnscope::Error(BadInput) for unknown names.
FigureStyle figureStyleFromName(const QString& name);

// Applies the style to the plot (palette, fonts, pens, margins) and re-lays it out. Screen
// restores the widget palette's theme (plot_theme.h).
void applyFigureStyle(QCustomPlot* plot, FigureStyle style);

}  // namespace attnscope::widgets
