#include "plot/colormaps.h"

#include <algorithm>
#include <cmath>

namespace attnscope::widgets {
namespace {

// Every 8th entry (plus the last) of matplotlib's 256-entry tables (_cm_listed.py),
// rounded to 8 bits. Stop k sits at k * 8 / 255; the last at 1. RGB interpolation
// between stops this close stays within a unit of the full table.
constexpr int kStops = 33;
using StopTable = std::array<unsigned, kStops>;

constexpr StopTable kViridis = {
    0x440154, 0x470d60, 0x48186a, 0x482374, 0x472d7b, 0x453781, 0x424086, 0x3e4989,
    0x3b528b, 0x375b8d, 0x33638d, 0x2f6b8e, 0x2c728e, 0x297a8e, 0x26828e, 0x23898e,
    0x21918c, 0x1f988b, 0x1fa088, 0x22a785, 0x28ae80, 0x32b67a, 0x3fbc73, 0x4ec36b,
    0x5ec962, 0x70cf57, 0x84d44b, 0x98d83e, 0xaddc30, 0xc2df23, 0xd8e219, 0xece51b,
    0xfde725,
};

constexpr StopTable kMagma = {
    0x000004, 0x030312, 0x0a0822, 0x130d34, 0x1d1147, 0x29115a, 0x36106b, 0x440f76,
    0x51127c, 0x5d177f, 0x6a1c81, 0x762181, 0x832681, 0x902a81, 0x9c2e7f, 0xaa337d,
    0xb73779, 0xc43c75, 0xd0416f, 0xdc4869, 0xe75263, 0xef5d5e, 0xf56b5c, 0xf9795d,
    0xfc8961, 0xfd9869, 0xfea772, 0xfeb67c, 0xfec488, 0xfed395, 0xfde2a3, 0xfcf0b2,
    0xfcfdbf,
};

constexpr StopTable kCividis = {
    0x00224e, 0x00285b, 0x002e6a, 0x053371, 0x1a386f, 0x273e6e, 0x32436d, 0x3b496c,
    0x434e6c, 0x4b546c, 0x535a6d, 0x5a5f6e, 0x61656f, 0x686a71, 0x6f7073, 0x767676,
    0x7d7c78, 0x848279, 0x8c8878, 0x938e78, 0x9b9476, 0xa39a74, 0xaba072, 0xb4a76f,
    0xbcae6c, 0xc4b468, 0xcdbb63, 0xd5c25e, 0xdec958, 0xe7d150, 0xf0d846, 0xf9e03a,
    0xfee838,
};

QCPColorGradient fromTable(const StopTable& table) {
    QCPColorGradient g;
    g.clearColorStops();
    for (int k = 0; k < kStops; ++k) {
        const double pos = k == kStops - 1 ? 1.0 : k * 8.0 / 255.0;
        g.setColorStopAt(pos, QColor::fromRgb(table[size_t(k)]));
    }
    return g;
}

double linearise(double c) {
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

}  // namespace

QString colormapName(Colormap map) {
    switch (map) {
    case Colormap::Viridis: return QStringLiteral("viridis");
    case Colormap::Magma: return QStringLiteral("magma");
    case Colormap::Cividis: return QStringLiteral("cividis");
    case Colormap::Grey: return QStringLiteral("grey");
    }
    return {};
}

std::optional<Colormap> colormapFromName(const QString& name) {
    for (Colormap m : kAllColormaps)
        if (colormapName(m).compare(name, Qt::CaseInsensitive) == 0) return m;
    return std::nullopt;
}

QCPColorGradient makeGradient(Colormap map) {
    QCPColorGradient g;
    switch (map) {
    case Colormap::Viridis: g = fromTable(kViridis); break;
    case Colormap::Magma: g = fromTable(kMagma); break;
    case Colormap::Cividis: g = fromTable(kCividis); break;
    case Colormap::Grey:
        g.clearColorStops();
        g.setColorStopAt(0.0, QColor(0, 0, 0));
        g.setColorStopAt(1.0, QColor(255, 255, 255));
        break;
    }
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setLevelCount(256);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

QCPColorGradient makeDivergingGradient() {
    // ColorBrewer RdBu (11 classes) from blue to red.
    static constexpr std::array<unsigned, 11> kRdBu = {0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
                                                       0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f};
    QCPColorGradient g;
    g.clearColorStops();
    for (size_t i = 0; i < kRdBu.size(); ++i)
        g.setColorStopAt(double(i) / double(kRdBu.size() - 1), QColor::fromRgb(kRdBu[i]));
    // A plateau of +-1.5 levels around the middle: QCPColorGradient truncates positions to
    // levels, so the anchor gets the middle colour even with rounding in the range.
    const double plateau = 1.5 / (kDivergingLevels - 1);
    g.setColorStopAt(0.5 - plateau, QColor::fromRgb(kRdBu[5]));
    g.setColorStopAt(0.5 + plateau, QColor::fromRgb(kRdBu[5]));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setLevelCount(kDivergingLevels);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

QCPRange centredRange(double centre, double lo, double hi, double minHalfWidth) {
    double half = minHalfWidth;
    if (std::isfinite(lo)) half = std::max(half, std::abs(centre - lo));
    if (std::isfinite(hi)) half = std::max(half, std::abs(hi - centre));
    return QCPRange(centre - half, centre + half);
}

double relativeLuminance(const QColor& color) {
    return 0.2126 * linearise(color.redF()) + 0.7152 * linearise(color.greenF()) +
           0.0722 * linearise(color.blueF());
}

}  // namespace attnscope::widgets
