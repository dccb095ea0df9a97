// Plain-loop references for the attention-variants tests (tst_variants, tst_variant_references):
// random head inputs, O(T²) softmax / masked softmax / φ-linear maps written out, and the
// comparisons the tests use. Independent of core/src/analyses/variants.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "attnscope/analyses/variants.h"

namespace attnscope::varref {

using Vec = std::vector<double>;

inline VariantHeadInput randomInput(int64_t T, int d, unsigned seed, double qMean = 0.0) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> n(0.0, 1.0);
    VariantHeadInput in;
    in.T = T;
    in.d = in.dv = d;
    for (Vec* x : {&in.q, &in.k, &in.v}) {
        x->resize(size_t(T * d));
        for (double& e : *x) e = n(rng);
    }
    for (double& e : in.q) e += qMean;
    in.scale = 1.5 / std::sqrt(double(d));  // sharper than d^-1/2: rows far from uniform
    return in;
}

inline double dot(const Vec& a, int64_t i, const Vec& b, int64_t j, int d) {
    double s = 0;
    for (int c = 0; c < d; ++c) s += a[size_t(i * d + c)] * b[size_t(j * d + c)];
    return s;
}

// O = W V for a map W [T, T].
inline Vec apply(const Vec& w, const VariantHeadInput& in, const Vec& v) {
    Vec o(size_t(in.T * in.dv), 0.0);
    for (int64_t i = 0; i < in.T; ++i)
        for (int64_t j = 0; j < in.T; ++j)
            for (int c = 0; c < in.dv; ++c)
                o[size_t(i * in.dv + c)] += w[size_t(i * in.T + j)] * v[size_t(j * in.dv + c)];
    return o;
}

// Softmax of row logits over the keys `keep(i, j)` allows (j ≤ i always required).
inline Vec refMaskedSoftmax(const VariantHeadInput& in, const std::function<bool(int64_t, int64_t)>& keep,
                            const std::function<double(int64_t, int64_t)>& logit) {
    Vec w(size_t(in.T * in.T), 0.0);
    for (int64_t i = 0; i < in.T; ++i) {
        double mx = -1e300;
        for (int64_t j = 0; j <= i; ++j)
            if (keep(i, j)) mx = std::max(mx, logit(i, j));
        double z = 0;
        for (int64_t j = 0; j <= i; ++j)
            if (keep(i, j)) z += std::exp(logit(i, j) - mx);
        for (int64_t j = 0; j <= i; ++j)
            if (keep(i, j)) w[size_t(i * in.T + j)] = std::exp(logit(i, j) - mx) / z;
    }
    return w;
}

inline Vec refSoftmax(const VariantHeadInput& in, const std::function<bool(int64_t, int64_t)>& keep = nullptr) {
    return refMaskedSoftmax(
        in, keep ? keep : [](int64_t, int64_t) { return true; },
        [&](int64_t i, int64_t j) { return in.scale * dot(in.q, i, in.k, j, in.d); });
}

// φ-feature linear attention, quadratic: W_ij = φ(q_i)·φ(k_j) / Σ_l φ(q_i)·φ(k_l).
inline Vec refLinear(const VariantHeadInput& in, const std::function<double(double)>& phi) {
    Vec fq = in.q, fk = in.k, w(size_t(in.T * in.T), 0.0);
    for (double& x : fq) x = phi(x);
    for (double& x : fk) x = phi(x);
    for (int64_t i = 0; i < in.T; ++i) {
        double den = 0;
        for (int64_t j = 0; j <= i; ++j) den += dot(fq, i, fk, j, in.d);
        if (den > 0)
            for (int64_t j = 0; j <= i; ++j) w[size_t(i * in.T + j)] = dot(fq, i, fk, j, in.d) / den;
    }
    return w;
}

inline double maxAbsDiff(const Vec& a, const Vec& b) {
    double m = 0;
    for (size_t n = 0; n < a.size(); ++n) m = std::max(m, std::abs(a[n] - b[n]));
    return a.size() == b.size() ? m : 1e300;
}

inline double maxRelDiff(const Vec& a, const Vec& b) {
    double num = 0, den = 0;
    for (size_t n = 0; n < a.size(); ++n) {
        num = std::max(num, std::abs(a[n] - b[n]));
        den = std::max(den, std::abs(b[n]));
    }
    return a.size() == b.size() ? num / std::max(den, 1e-300) : 1e300;
}

inline VariantHeadOutput run(const std::string& name, const VariantHeadInput& in,
                             const std::vector<std::string>& params = {}) {
    return computeVariant(name, variantParams(variantInfo(name), params), in);
}

inline double median(Vec x) {
    std::sort(x.begin(), x.end());
    return x[(x.size() - 1) / 2];
}

inline Vec rowNorms(const Vec& x, int64_t T, int d) {
    Vec n(static_cast<size_t>(T));
    for (int64_t i = 0; i < T; ++i) n[size_t(i)] = std::sqrt(dot(x, i, x, i, d));
    return n;
}

inline double elu1(double x) { return x > 0 ? x + 1 : std::exp(x); }

}  // namespace attnscope::varref
