// Least-squares line and Pearson r. Lives in attnscope_io (no torch) so that the sinks
// analysis and the panels' scatter plots use the same arithmetic.
#include <algorithm>
#include <cmath>

#include "attnscope/analyses/sinks.h"

namespace attnscope {

LinearFit fitLine(const std::vector<double>& x, const std::vector<double>& y) {
    LinearFit f;
    f.n = int(std::min(x.size(), y.size()));
    if (f.n < 2) return f;
    double mx = 0, my = 0;
    for (int i = 0; i < f.n; ++i) mx += x[size_t(i)], my += y[size_t(i)];
    mx /= f.n;
    my /= f.n;
    double sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < f.n; ++i) {
        const double dx = x[size_t(i)] - mx, dy = y[size_t(i)] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    // Degenerate sets (all x equal) have no line; report slope 0 through the mean.
    f.lineDefined = sxx > 0;
    f.rDefined = sxx > 0 && syy > 0;
    f.slope = f.lineDefined ? sxy / sxx : 0;
    f.intercept = my - f.slope * mx;
    f.r = f.rDefined ? sxy / std::sqrt(sxx * syy) : 0;
    return f;
}

}  // namespace attnscope
