// Perceptually uniform colormaps for heatmaps. QCustomPlot 2.1 has no viridis preset, so
// the gradients are built from control points of matplotlib's published maps.
#pragma once
#include <array>
#include <optional>

#include <QString>
#include <qcustomplot.h>

namespace attnscope::widgets {

enum class Colormap { Viridis, Magma, Cividis, Grey };

inline constexpr std::array<Colormap, 4> kAllColormaps = {Colormap::Viridis, Colormap::Magma,
                                                          Colormap::Cividis, Colormap::Grey};

QString colormapName(Colormap map);
std::optional<Colormap> colormapFromName(const QString& name);

// Dark (low) to light (high) for every map, so a larger value always reads as brighter.
QCPColorGradient makeGradient(Colormap map);

// Diverging blue - near white - red (ColorBrewer RdBu, reversed), for values read against
// an anchor: the middle colour means "at the anchor", blue below it, red above it. An odd
// level count puts the anchor on an exact level.
QCPColorGradient makeDivergingGradient();
inline constexpr int kDivergingLevels = 257;

// The smallest range centred on `centre` that holds [lo, hi], so that `centre` is drawn in
// a diverging gradient's middle colour (never empty: at least centre +- minHalfWidth).
QCPRange centredRange(double centre, double lo, double hi, double minHalfWidth = 1e-3);

// Relative luminance (Rec. 709 on linearised sRGB) in [0, 1].
double relativeLuminance(const QColor& color);

}  // namespace attnscope::widgets
