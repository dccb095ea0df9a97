// Samples and quantile data of known distributions for the Weibull tests: the
// independent side of every comparison (HalfNormal and Weibull by inverse CDF).
#pragma once
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "attnscope/analyses/weibull.h"

namespace weibull_test {

using namespace attnscope;

// Standard normal quantile: Acklam's rational approximation refined by one Halley step
// on erfc, accurate to double precision well into the tails.
inline double normalQuantile(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        const double q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        const double q = std::sqrt(-2 * std::log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

inline double halfNormalQuantile(double F, double sigma) { return sigma * normalQuantile((1 + F) / 2); }
inline double weibullQuantile(double F, double k, double lambda) { return lambda * std::pow(-std::log1p(-F), 1 / k); }

// Population data: the quantile function at the Hazen positions (i − 0.5)/n.
template <class Q>
std::vector<float> atHazen(size_t n, Q quantile) {
    std::vector<float> v(n);
    for (size_t i = 1; i <= n; ++i) v[i - 1] = float(quantile((double(i) - 0.5) / double(n)));
    return v;
}

inline std::vector<float> normalSample(size_t n, double sigma, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0.0, sigma);
    std::vector<float> v(n);
    for (float& x : v) x = float(g(rng));
    return v;
}

// Weibull(k, λ) by inverse CDF, with random signs (the fits see |w|).
inline std::vector<float> weibullSample(size_t n, double k, double lambda, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<float> v(n);
    for (float& x : v) {
        const double u = double(rng() >> 11) * 0x1.0p-53;
        x = float(weibullQuantile(u, k, lambda) * ((rng() & 1) ? 1 : -1));
    }
    return v;
}

inline WeibullResult fit(const std::vector<float>& v, WeibullProtocol p = WeibullProtocol::Exact,
                  WeibullTrim t = WeibullTrim::Mid80) {
    WeibullParams params;
    params.protocol = p;
    params.trim = t;
    return fitWeibull(v.data(), v.size(), params);
}

// The sampling SD of k̂ scales with k (ln|w| = ln λ + ln(E)/k); 1.4/√n at the HalfNormal's k.
inline double sdK(double k, size_t n) { return 1.4 * k / kWeibullHalfNormalK / std::sqrt(double(n)); }

}  // namespace weibull_test
