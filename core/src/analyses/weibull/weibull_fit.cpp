// The two NPM-Weibull protocols on a float buffer (reference §1.2), the classifier (§1.3)
// and the distribution-free fallback metrics. Plain C++: the exact protocol sorts the
// magnitudes with an O(n) radix sort on their IEEE bits, so a whole small model fits in a
// few milliseconds and 100M-value matrices stay linear.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <thread>

#include "analyses/weibull/weibull_detail.h"
#include "attnscope/analyses/weibull.h"
#include "attnscope/enum_names.h"
#include "attnscope/error.h"

namespace attnscope {

namespace wd = weibull_detail;

namespace {

constexpr EnumName<WeibullProtocol> kProtocolNames[] = {{WeibullProtocol::Exact, "exact"}, {WeibullProtocol::Hist, "hist"}};
constexpr EnumName<WeibullTrim> kTrimNames[] = {{WeibullTrim::Mid80, "mid80"},  {WeibullTrim::Mid90, "mid90"},
                                                {WeibullTrim::Full, "full"},    {WeibullTrim::Mid80, "mid_80"},
                                                {WeibullTrim::Mid90, "mid_90"}, {WeibullTrim::Full, "full_range"}};

}  // namespace

const char* weibullProtocolName(WeibullProtocol p) { return enumName(kProtocolNames, p); }
const char* weibullTrimName(WeibullTrim t) { return enumName(kTrimNames, t); }
WeibullProtocol parseWeibullProtocol(const std::string& s) { return parseEnum(kProtocolNames, s, "Weibull protocol"); }
WeibullTrim parseWeibullTrim(const std::string& s) { return parseEnum(kTrimNames, s, "Weibull trim"); }

const char* weibullClass(double k, double r2, bool isInit) {
    // classify_k of core/classify.py, branch for branch. Note that k above 1.21 falls
    // through to mild_selection there too (the reference's prose lists only k < 1.18).
    if (!(k > 0) || !std::isfinite(k)) return "none";
    if (isInit && std::abs(k - kWeibullInitAnchor) < 0.01) return "init_baseline";
    if (k >= 1.18 && k <= 1.21) return (r2 < 0 || r2 >= 0.95) ? "transmission" : "mild_selection";
    if (k >= 0.95) return "mild_selection";
    return "strong_selection";
}

const char* weibullDriftSeverity(double k, double kInit) {
    const double pct = std::abs(k - kInit) / kInit * 100.0;  // k_drift_severity
    if (!std::isfinite(pct)) return "";
    return pct < 1.0 ? "invariant" : pct <= 30.0 ? "mild" : "strong";
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline float keyValue(uint32_t k) { return std::bit_cast<float>(k); }

// Hazen window of the exact protocol: ranks i (1-based) with lo ≤ (i−0.5)/n ≤ hi,
// compared in double as the scripts' numpy code does.
void hazenWindow(WeibullTrim trim, size_t n, size_t& iLo, size_t& iHi) {
    if (trim == WeibullTrim::Full) {  // 0 < F < 1 holds for every Hazen position
        iLo = 1;
        iHi = n;
        return;
    }
    const double lo = trim == WeibullTrim::Mid90 ? 0.05 : 0.1, hi = trim == WeibullTrim::Mid90 ? 0.95 : 0.9;
    auto F = [n](size_t i) { return (double(i) - 0.5) / double(n); };
    iLo = size_t(std::max(1.0, std::ceil(lo * double(n) + 0.5)));
    while (iLo > 1 && F(iLo - 1) >= lo) --iLo;
    while (iLo <= n && F(iLo) < lo) ++iLo;
    iHi = size_t(std::min(double(n), std::floor(hi * double(n) + 0.5)));
    while (iHi < n && F(iHi + 1) <= hi) ++iHi;
    while (iHi >= 1 && F(iHi) > hi) --iHi;
}

double weibullCdf(double x, double k, double lambda) { return -std::expm1(-std::pow(x / lambda, k)); }

// sup|F_n − F| over the sorted sample, exactly, by branch and bound over rank blocks:
// F is monotone, so a block's discrepancy is bounded by its end points; only blocks
// whose bound beats the best value so far are scanned.
double exactKs(const std::vector<uint32_t>& a, double k, double lambda, int threads) {
    const size_t n = a.size();
    const double dn = double(n);
    auto at = [&](size_t i) {  // discrepancy at rank i (1-based)
        const double f = weibullCdf(keyValue(a[i - 1]), k, lambda);
        return std::max(double(i) / dn - f, f - double(i - 1) / dn);
    };
    constexpr size_t kBlock = 64;
    struct Block { double bound; size_t i0, i1; };
    const size_t nBlocks = (n + kBlock - 1) / kBlock;
    std::vector<Block> blocks(nBlocks);
    const int C = wd::chunkCount(n, threads);
    std::vector<double> bests(size_t(C), 0.0);
    wd::forChunks(nBlocks, C, [&](int c, size_t b0, size_t b1) {
        double best = 0;
        for (size_t blk = b0; blk < b1; ++blk) {
            const size_t i0 = blk * kBlock + 1, i1 = std::min(n, i0 + kBlock - 1);
            const double f0 = weibullCdf(keyValue(a[i0 - 1]), k, lambda);
            const double f1 = weibullCdf(keyValue(a[i1 - 1]), k, lambda);
            best = std::max({best, double(i0) / dn - f0, f0 - double(i0 - 1) / dn, double(i1) / dn - f1,
                             f1 - double(i1 - 1) / dn});
            blocks[blk] = {std::max(double(i1) / dn - f0, f1 - double(i0 - 1) / dn), i0, i1};
        }
        bests[size_t(c)] = best;
    });
    double best = *std::max_element(bests.begin(), bests.end());
    std::erase_if(blocks, [&](const Block& b) { return b.bound <= best; });
    std::sort(blocks.begin(), blocks.end(), [](const Block& x, const Block& y) { return x.bound > y.bound; });
    for (const Block& b : blocks) {
        if (b.bound <= best) break;
        for (size_t i = b.i0 + 1; i < b.i1; ++i) best = std::max(best, at(i));
    }
    return best;
}

WeibullDistFree distFreeSorted(const std::vector<uint32_t>& a, int threads) {
    // distfree.py's cumulative-count searchsorted, with every value its own bin: the
    // q-quantile is the value of rank ⌈q·n⌉.
    const size_t n = a.size();
    auto q = [&](double p) {
        const double r = std::ceil(p * double(n)) - 1;
        return double(keyValue(a[size_t(std::clamp(r, 0.0, double(n - 1)))]));
    };
    WeibullDistFree d;
    const double q10 = q(0.10), q50 = q(0.50), q90 = q(0.90), q99 = q(0.99), q999 = q(0.999);
    d.q90q10 = q90 / std::max(q10, 1e-30);
    d.q99q50 = q99 / std::max(q50, 1e-30);
    d.p999p50 = q999 / std::max(q50, 1e-30);
    d.medianAbs = q50;
    // Lorenz curve through (0,0) and (i/n, S_i/S_n), trapezoids: ∫L = (ΣS_i/S_n − 1/2)/n,
    // with ΣS_i = Σ_j a_j·(n − j) (0-based j) so chunks can sum independently.
    const int C = wd::chunkCount(n, threads);
    std::vector<double> parts(2 * size_t(C), 0.0);
    wd::forChunks(n, C, [&](int c, size_t b, size_t e) {
        double s = 0, w = 0;
        for (size_t j = b; j < e; ++j) {
            const double v = keyValue(a[j]);
            s += v;
            w += v * double(n - j);
        }
        parts[2 * size_t(c)] = s;
        parts[2 * size_t(c) + 1] = w;
    });
    double s = 0, cum = 0;
    for (int c = 0; c < C; ++c) {
        s += parts[2 * size_t(c)];
        cum += parts[2 * size_t(c) + 1];
    }
    d.gini = s > 0 ? 1.0 - 2.0 * (cum / s - 0.5) / double(n) : kNaN;
    return d;
}

WeibullDistFree distFreeHist(const std::vector<double>& h) {
    WeibullDistFree d;
    double total = 0;
    for (double c : h) total += c;
    if (total < 100) {
        d.q90q10 = d.q99q50 = d.p999p50 = d.gini = d.medianAbs = kNaN;
        return d;
    }
    std::vector<double> mid(h.size()), cum(h.size());
    double run = 0, massTotal = 0;
    for (size_t b = 0; b < h.size(); ++b) {
        mid[b] = 0.5 * (std::pow(10.0, wd::edge(int(b))) + std::pow(10.0, wd::edge(int(b) + 1)));
        cum[b] = (run += h[b]);
        massTotal += mid[b] * h[b];
    }
    auto q = [&](double p) {  // np.searchsorted(cum, p·T), side='left'
        const size_t i = size_t(std::lower_bound(cum.begin(), cum.end(), p * total) - cum.begin());
        return mid[std::min(i, mid.size() - 1)];
    };
    const double q10 = q(0.10), q50 = q(0.50), q90 = q(0.90), q99 = q(0.99), q999 = q(0.999);
    d.q90q10 = q90 / std::max(q10, 1e-30);
    d.q99q50 = q99 / std::max(q50, 1e-30);
    d.p999p50 = q999 / std::max(q50, 1e-30);
    d.medianAbs = q50;
    // np.trapezoid(cum_w, cum_n) over the bins, as the library (no (0,0) point prepended;
    // the empty bins below the data supply it).
    double area = 0, prevW = 0, prevN = 0, mass = 0;
    for (size_t b = 0; b < h.size(); ++b) {
        mass += mid[b] * h[b];
        const double cw = mass / massTotal, cn = cum[b] / total;
        if (b) area += 0.5 * (cw + prevW) * (cn - prevN);
        prevW = cw;
        prevN = cn;
    }
    d.gini = 1.0 - 2.0 * area;
    return d;
}

void failResult(WeibullResult& r, const std::string& why) {
    r.ok = false;
    r.reason = why;
    r.k = r.lambda = r.r2 = r.ks = kNaN;
    r.cls = "none";
    r.drift.clear();
    r.driftPct = kNaN;
}

void fitExact(const std::vector<uint32_t>& a, WeibullResult& r, int threads) {
    const size_t n = a.size();
    r.nValues = n;
    if (n < 100) return failResult(r, "fewer than 100 nonzero values");
    size_t iLo = 0, iHi = 0;
    hazenWindow(r.trim, n, iLo, iHi);
    if (iHi < iLo || iHi - iLo + 1 < 5) return failResult(r, "fewer than 5 points in the trim window");
    const size_t m = iHi - iLo + 1;
    r.nFit = m;
    // OLS of y = ln(−ln(1−F)) on x = ln|w| (y on x: the reverse regression biases k by
    // 1/R²). Sums in double, x shifted by the window's middle against cancellation.
    const double x0 = std::log(double(keyValue(a[(iLo + iHi) / 2 - 1])));
    const double dn = double(n);
    const int C = wd::chunkCount(m, threads);
    std::vector<std::array<double, 5>> parts(static_cast<size_t>(C));
    wd::forChunks(m, C, [&](int c, size_t b, size_t e) {
        double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
        for (size_t i = iLo + b; i < iLo + e; ++i) {
            const double x = std::log(double(keyValue(a[i - 1]))) - x0;
            const double y = std::log(-std::log1p(-(double(i) - 0.5) / dn));
            sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y;
        }
        parts[size_t(c)] = {sx, sy, sxx, sxy, syy};
    });
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (const auto& q : parts) {
        sx += q[0]; sy += q[1]; sxx += q[2]; sxy += q[3]; syy += q[4];
    }
    const double dm = double(m), mx = sx / dm, my = sy / dm;
    const double Sxx = sxx - dm * mx * mx, Sxy = sxy - dm * mx * my, Syy = syy - dm * my * my;
    const double k = Sxy / Sxx;
    const double c = my - k * (mx + x0);  // intercept in unshifted x
    const double lambda = std::exp(-c / k);
    if (!(std::isfinite(k) && std::isfinite(lambda) && k > 0 && lambda > 0))
        return failResult(r, "non-physical k or lambda (degenerate data)");
    r.ok = true;
    r.k = k;
    r.lambda = lambda;
    r.r2 = Syy > 0 ? Sxy * Sxy / (Sxx * Syy) : 1.0;
    r.ks = exactKs(a, k, lambda, threads);
    r.windowLnLo = std::log(double(keyValue(a[iLo - 1])));
    r.windowLnHi = std::log(double(keyValue(a[iHi - 1])));
    r.distFree = distFreeSorted(a, threads);
}

void fitHist(const std::vector<double>& h, WeibullResult& r) {
    double T = 0;
    for (double c : h) T += c;
    r.nValues = uint64_t(T);
    r.distFree = distFreeHist(h);
    if (T < 100) return failResult(r, "insufficient counts (<100)");
    // weibull.py's _weibull_fit_core, step for step.
    const double pct = r.trim == WeibullTrim::Mid80 ? 80 : r.trim == WeibullTrim::Mid90 ? 90 : 100;
    const double margin = (1 - pct / 100.0) / 2.0;
    std::vector<double> up(h.size()), Fm(h.size()), xs(h.size());
    double C = 0;
    for (size_t b = 0; b < h.size(); ++b) {
        C += h[b];
        up[b] = C / T;
        Fm[b] = (up[b] + (C - h[b]) / T) / 2.0;
        xs[b] = (wd::edge(int(b)) + wd::edge(int(b) + 1)) / 2.0 * std::log(10.0);
    }
    std::vector<size_t> used;
    for (size_t b = 0; b < h.size(); ++b) {
        const bool in = pct >= 100 ? (Fm[b] > 0 && Fm[b] < 1) : (Fm[b] >= margin && Fm[b] <= 1 - margin);
        if (in && h[b] > 0) used.push_back(b);
    }
    r.nFit = used.size();
    if (used.size() < 5) return failResult(r, "insufficient bins after trim (<5)");
    double sw = 0, swx = 0, swy = 0;
    std::vector<double> ys(used.size());
    for (size_t j = 0; j < used.size(); ++j) {
        const size_t b = used[j];
        ys[j] = std::log(-std::log(1 - Fm[b] + 1e-12));
        sw += h[b]; swx += h[b] * xs[b]; swy += h[b] * ys[j];
    }
    const double mx = swx / sw, my = swy / sw;
    double Sxx = 0, Sxy = 0;
    for (size_t j = 0; j < used.size(); ++j) {
        const double w = h[used[j]], dx = xs[used[j]] - mx;
        Sxx += w * dx * dx;
        Sxy += w * dx * (ys[j] - my);
    }
    const double k = Sxy / Sxx, c = my - k * mx, lambda = std::exp(-c / k);
    if (!(std::isfinite(k) && std::isfinite(lambda) && k > 0 && lambda > 0))
        return failResult(r, "non-physical k/lambda from fit");
    double ssRes = 0, ssTot = 0;
    for (size_t j = 0; j < used.size(); ++j) {
        const double w = h[used[j]], e = ys[j] - (k * xs[used[j]] + c), t = ys[j] - my;
        ssRes += w * e * e;
        ssTot += w * t * t;
    }
    double ks = 0;  // all bins, empirical CDF at the upper edge vs the fit at the centre
    for (size_t b = 0; b < h.size(); ++b)
        ks = std::max(ks, std::abs(up[b] - weibullCdf(std::pow(10.0, xs[b] / std::log(10.0)), k, lambda)));
    r.ok = true;
    r.k = k;
    r.lambda = lambda;
    r.r2 = 1.0 - ssRes / std::max(ssTot, 1e-12);
    r.ks = ks;
    r.windowLnLo = wd::edge(int(used.front())) * std::log(10.0);
    r.windowLnHi = wd::edge(int(used.back()) + 1) * std::log(10.0);
}

// Fields every protocol fills once the fit ran.
void finish(WeibullResult& r, const WeibullParams& p) {
    r.sdK = r.nValues ? 1.4 / std::sqrt(double(r.nValues)) : kNaN;
    if (r.ok) {
        r.cls = weibullClass(r.k, r.r2, p.isInit);
        r.driftPct = std::abs(r.k - kWeibullInitAnchor) / kWeibullInitAnchor * 100.0;
        r.drift = weibullDriftSeverity(r.k);
        r.lowR2 = r.r2 < 0.95;
    }
}

}  // namespace

WeibullResult wd::fitHistogram(const std::vector<double>& counts, uint64_t dropped, const WeibullParams& p) {
    WeibullResult r;
    r.protocol = WeibullProtocol::Hist;
    r.trim = p.trim;
    r.nDropped = dropped;
    fitHist(counts, r);
    finish(r, p);
    return r;
}

WeibullResult fitWeibull(const float* data, size_t n, const WeibullParams& p) {
    WeibullResult r;
    r.protocol = p.protocol;
    r.trim = p.trim;
    const int threads = p.threads > 0 ? p.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<float> storage;
    const float* sample = wd::sampleOf(data, n, p, storage);
    if (p.protocol == WeibullProtocol::Exact) {
        fitExact(wd::sortedMagnitudes(sample, n, r.nDropped, threads), r, threads);
    } else {
        std::vector<double> h;
        wd::histogramLog10(sample, n, h, r.nDropped, threads);
        fitHist(h, r);
    }
    finish(r, p);
    return r;
}

}  // namespace attnscope
