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

// Standard normal quantile, by another route than the core's (Acklam's approximation, in the
// NF4 code book): Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4) on the lower half, refined
// by Halley steps on Φ(x) − p with Φ from std::erfc (cubic: 3 reach double precision); the
// upper half by symmetry, 1 − p being exact there.
inline double normalQuantile(double p) {
    if (p > 0.5) return -normalQuantile(1 - p);
    const double t = std::sqrt(-2 * std::log(p));
    double x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
    for (int i = 0; i < 3; ++i) {
        const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
        const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
        x -= u / (1 + x * u / 2);
    }
    return x;
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
