// Independent reference implementations of the KV policies for tst_kv: written from the
// formulas of sinks-and-kv-eviction.md Part 2 over attention matrices materialized here
// (Trace::attentionTile, in double) and the trace's captured q/k/v. No calls into the
// module. Ties keep the later token, the rule the module documents.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "attnscope/trace.h"

namespace kvref {

using Keep = std::vector<int64_t>;
constexpr double kForced = std::numeric_limits<double>::infinity();

struct Att {
    int L = 0, H = 0, Hkv = 0, d = 0;
    int64_t T = 0, Tp = 0, window = 0;
    std::vector<std::vector<double>> A;  // [L*H][T*T]
    std::vector<attnscope::Matrix2D> qPre, kPre, k, v;  // [L] captures
    double a(int l, int h, int64_t i, int64_t j) const { return A[size_t(l * H + h)][size_t(i * T + j)]; }
    // Row-major [T, heads*d] capture element.
    static double at(const attnscope::Matrix2D& m, int64_t t, int head, int d, int x) { return m.at(t, head * d + x); }
    int group() const { return H / Hkv; }
};

inline Att materialize(const attnscope::Trace& tr, int64_t Tp, int64_t window) {
    Att a;
    a.L = tr.nLayers();
    a.H = tr.nHeads();
    a.Hkv = tr.nKvHeads();
    a.d = tr.headDim();
    a.T = tr.length();
    a.Tp = Tp;
    a.window = window;
    for (int l = 0; l < a.L; ++l) {
        for (int h = 0; h < a.H; ++h) {
            const attnscope::Matrix2D m = tr.attentionTile(l, h, 0, a.T, 0, a.T);
            a.A.emplace_back(m.data.begin(), m.data.end());
        }
        a.qPre.push_back(tr.captured(attnscope::Capture::QPre, l));
        a.kPre.push_back(tr.captured(attnscope::Capture::KPre, l));
        a.k.push_back(tr.captured(attnscope::Capture::K, l));
        a.v.push_back(tr.captured(attnscope::Capture::V, l));
    }
    return a;
}

// Kept sets [L][heads] and the scores they came from (forced entries = +inf).
struct Ref {
    std::vector<std::vector<Keep>> kept;
    std::vector<std::vector<std::vector<double>>> score;
};

// The k best of s[lo, hi): higher score first, ties to the later position.
inline Keep top(const std::vector<double>& s, int64_t lo, int64_t hi, int64_t k) {
    Keep idx;
    for (int64_t j = lo; j < hi; ++j) idx.push_back(j);
    std::sort(idx.begin(), idx.end(), [&](int64_t x, int64_t y) { return s[size_t(x)] != s[size_t(y)] ? s[size_t(x)] > s[size_t(y)] : x > y; });
    if (int64_t(idx.size()) > k) idx.resize(size_t(std::max<int64_t>(k, 0)));
    return idx;
}

// top(s, lo, hi, k) ∪ [flo, fhi), sorted; forced entries get +inf scores.
inline Keep keep(std::vector<double>& s, int64_t lo, int64_t hi, int64_t k, int64_t flo, int64_t fhi) {
    Keep r = top(s, lo, hi, k);
    for (int64_t j = std::max<int64_t>(flo, 0); j < fhi; ++j) {
        r.push_back(j);
        s[size_t(j)] = kForced;
    }
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    return r;
}

enum class Agg { None, Mean, Max, Sum };

// Per query head scores [H][n] → per KV head [Hkv][n].
inline std::vector<std::vector<double>> reduce(const std::vector<std::vector<double>>& x, int Hkv, Agg how) {
    if (how == Agg::None) return x;
    const size_t G = x.size() / size_t(Hkv), n = x[0].size();
    std::vector<std::vector<double>> out(size_t(Hkv), std::vector<double>(n, 0.0));
    for (size_t g = 0; g < size_t(Hkv); ++g)
        for (size_t j = 0; j < n; ++j) {
            double acc = how == Agg::Max ? -kForced : 0.0;
            for (size_t m = 0; m < G; ++m) acc = how == Agg::Max ? std::max(acc, x[g * G + m][j]) : acc + x[g * G + m][j];
            out[g][j] = how == Agg::Mean ? acc / double(G) : acc;
        }
    return out;
}

inline Ref uniform(const Att& a, int heads, const Keep& k) {
    Ref r;
    r.kept.assign(size_t(a.L), std::vector<Keep>(size_t(heads), k));
    r.score.assign(size_t(a.L), std::vector<std::vector<double>>(size_t(heads), std::vector<double>(size_t(a.Tp), 0.0)));
    return r;
}

inline Ref streaming(const Att& a, int64_t B, int64_t sink) {
    Keep k;
    for (int64_t j = 0; j < a.Tp; ++j)
        if (j < sink || j >= a.Tp - (B - sink)) k.push_back(j);
    return uniform(a, 1, k);
}

inline Ref recency(const Att& a, int64_t B) { return streaming(a, B, 0); }

// Scores [L][heads][Tp] → top-k of [lo, hi) plus the forced range [flo, fhi).
template <class F>
Ref perHead(const Att& a, std::vector<std::vector<std::vector<double>>> s, F bounds) {
    Ref r;
    r.kept.resize(size_t(a.L));
    for (int l = 0; l < a.L; ++l)
        for (size_t h = 0; h < s[size_t(l)].size(); ++h) {
            auto [lo, hi, k, flo, fhi] = bounds(l);
            r.kept[size_t(l)].push_back(keep(s[size_t(l)][h], lo, hi, k, flo, fhi));
        }
    r.score = std::move(s);
    return r;
}

// H2O: σ_j = Σ_{i<T_p} A_ij (raw), recent = B/2, heavy = top(B − recent) before the window.
inline Ref h2o(const Att& a, int64_t B, Agg agg) {
    const int64_t r = B / 2;
    std::vector<std::vector<std::vector<double>>> s(size_t(a.L));
    for (int l = 0; l < a.L; ++l) {
        std::vector<std::vector<double>> q(size_t(a.H), std::vector<double>(size_t(a.Tp), 0.0));
        for (int h = 0; h < a.H; ++h)
            for (int64_t i = 0; i < a.Tp; ++i)
                for (int64_t j = 0; j <= i; ++j) q[size_t(h)][size_t(j)] += a.a(l, h, i, j);
        s[size_t(l)] = reduce(q, a.Hkv, agg);
    }
    return perHead(a, s, [&](int) { return std::make_tuple(int64_t(0), a.Tp - r, B - r, a.Tp - r, a.Tp); });
}

// SnapKV scores: C^h_j = Σ_{i=T_p−w}^{T_p−1} A_ij for j < T_p − w, pooled (stride 1, pad k/2,
// avg divides by k), then reduced over the group.
inline std::vector<std::vector<std::vector<double>>> snapScores(const Att& a, int64_t w, int kernel, bool maxPool, Agg agg) {
    const int64_t n = a.Tp - w, rad = kernel / 2;
    std::vector<std::vector<std::vector<double>>> out(size_t(a.L));
    for (int l = 0; l < a.L; ++l) {
        std::vector<std::vector<double>> pooled(size_t(a.H), std::vector<double>(size_t(n), 0.0));
        for (int h = 0; h < a.H; ++h) {
            std::vector<double> c(size_t(n), 0.0);
            for (int64_t i = a.Tp - w; i < a.Tp; ++i)
                for (int64_t j = 0; j < n; ++j) c[size_t(j)] += a.a(l, h, i, j);
            for (int64_t j = 0; j < n; ++j) {
                double acc = maxPool ? -kForced : 0.0;
                for (int64_t x = j - rad; x <= j + rad; ++x)
                    if (x >= 0 && x < n) acc = maxPool ? std::max(acc, c[size_t(x)]) : acc + c[size_t(x)];
                pooled[size_t(h)][size_t(j)] = maxPool ? acc : acc / kernel;
            }
        }
        out[size_t(l)] = reduce(pooled, a.Hkv, agg);
        for (auto& row : out[size_t(l)]) row.resize(size_t(a.Tp), 0.0);
    }
    return out;
}

inline Ref snapkv(const Att& a, int64_t B, int64_t w, int kernel, bool maxPool, Agg agg) {
    w = std::min(w, B);
    return perHead(a, snapScores(a, w, kernel, maxPool, agg),
                   [&](int) { return std::make_tuple(int64_t(0), a.Tp - w, B - w, a.Tp - w, a.Tp); });
}

// PyramidKV budgets (KVCache-Factory) on SnapKV scores.
inline std::vector<int64_t> pyramidCaps(int64_t P, int64_t w, int64_t beta, int64_t T, int L) {
    if (T < 2 * (P - w)) return std::vector<int64_t>(size_t(L), P - w);
    int64_t mn = (P - w) / beta, mx = 2 * (P - w) - mn;
    if (mx >= T - w) {
        mx = T - w;
        mn = 2 * (P - w) - mx;
    }
    std::vector<int64_t> cap;
    for (int l = 0; l < L; ++l) cap.push_back(mx - l * ((mx - mn) / (L - 1)));
    return cap;
}

inline Ref pyramidkv(const Att& a, int64_t B, int64_t w, int kernel, bool maxPool, int64_t beta, Agg agg) {
    const std::vector<int64_t> cap = pyramidCaps(B, w, beta, a.Tp, a.L);
    return perHead(a, snapScores(a, w, kernel, maxPool, agg),
                   [&](int l) { return std::make_tuple(int64_t(0), a.Tp - w, cap[size_t(l)], a.Tp - w, a.Tp); });
}

// TOVA: last prompt row, mean over all query heads, one set per layer.
inline Ref tova(const Att& a, int64_t B) {
    std::vector<std::vector<std::vector<double>>> s(size_t(a.L), std::vector<std::vector<double>>(1, std::vector<double>(size_t(a.Tp), 0.0)));
    for (int l = 0; l < a.L; ++l)
        for (int h = 0; h < a.H; ++h)
            for (int64_t j = 0; j < a.Tp; ++j) s[size_t(l)][0][size_t(j)] += a.a(l, h, a.Tp - 1, j) / a.H;
    return perHead(a, s, [&](int) { return std::make_tuple(int64_t(0), a.Tp, B, int64_t(0), int64_t(0)); });
}

// Scissorhands: u_j = #rows s in the last w prompt rows (seeing j) with A_sj < 1/t_s; keep
// the r most recent and the B − r others with the fewest such rows.
inline Ref scissorhands(const Att& a, int64_t B, int64_t w, int64_t r) {
    std::vector<std::vector<std::vector<double>>> s(size_t(a.L), std::vector<std::vector<double>>(size_t(a.H), std::vector<double>(size_t(a.Tp), 0.0)));
    for (int l = 0; l < a.L; ++l)
        for (int h = 0; h < a.H; ++h)
            for (int64_t i = a.Tp - w; i < a.Tp; ++i) {
                const int64_t lo = a.window > 0 ? std::max<int64_t>(0, i - a.window + 1) : 0;
                for (int64_t j = lo; j <= i; ++j)
                    if (a.a(l, h, i, j) < 1.0 / double(i + 1 - lo)) s[size_t(l)][size_t(h)][size_t(j)] -= 1.0;
            }
    return perHead(a, s, [&](int) { return std::make_tuple(int64_t(0), a.Tp - r, B - r, a.Tp - r, a.Tp); });
}

// ZipCache: Σ_{h∈g} Σ_{i∈probes} A_ij / (T_p − j) per KV head.
inline Ref zipcache(const Att& a, int64_t B, const std::vector<int64_t>& probes) {
    std::vector<std::vector<std::vector<double>>> s(size_t(a.L), std::vector<std::vector<double>>(size_t(a.Hkv), std::vector<double>(size_t(a.Tp), 0.0)));
    for (int l = 0; l < a.L; ++l)
        for (int h = 0; h < a.H; ++h)
            for (int64_t i : probes)
                for (int64_t j = 0; j <= i; ++j) s[size_t(l)][size_t(h / a.group())][size_t(j)] += a.a(l, h, i, j) / double(a.Tp - j);
    return perHead(a, s, [&](int) { return std::make_tuple(int64_t(0), a.Tp, B, int64_t(0), int64_t(0)); });
}

// KNorm: −||k_j|| per KV head (post-RoPE).
inline Ref knorm(const Att& a, int64_t B) {
    std::vector<std::vector<std::vector<double>>> s(size_t(a.L), std::vector<std::vector<double>>(size_t(a.Hkv), std::vector<double>(size_t(a.Tp), 0.0)));
    for (int l = 0; l < a.L; ++l)
        for (int g = 0; g < a.Hkv; ++g)
            for (int64_t j = 0; j < a.Tp; ++j) {
                double n = 0;
                for (int x = 0; x < a.d; ++x) n += std::pow(Att::at(a.k[size_t(l)], j, g, a.d, x), 2);
                s[size_t(l)][size_t(g)][size_t(j)] = -std::sqrt(n);
            }
    return perHead(a, s, [&](int) { return std::make_tuple(int64_t(0), a.Tp, B, int64_t(0), int64_t(0)); });
}

// Random baseline: SplitMix64 of seed ^ (layer << 48 | head << 32 | token), as documented.
inline double splitMix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return double(x >> 11) / 9007199254740992.0;
}

inline Ref random(const Att& a, int64_t B, uint64_t seed) {
    std::vector<std::vector<std::vector<double>>> s(size_t(a.L), std::vector<std::vector<double>>(size_t(a.Hkv), std::vector<double>(size_t(a.Tp), 0.0)));
    for (int l = 0; l < a.L; ++l)
        for (int g = 0; g < a.Hkv; ++g)
            for (int64_t j = 0; j < a.Tp; ++j)
                s[size_t(l)][size_t(g)][size_t(j)] = double(float(splitMix(seed ^ (uint64_t(l) << 48 | uint64_t(g) << 32 | uint64_t(j)))));
    return perHead(a, s, [&](int) { return std::make_tuple(int64_t(0), a.Tp, B, int64_t(0), int64_t(0)); });
}

// RoPE as HF builds it: inv_freq in float32; pairs (f, f + d/2) or llama2.c's (2f, 2f+1).
struct Rope {
    double theta = 10000.0;
    bool interleaved = false;
    double omega(int f, int d) const { return double(1.0f / std::pow(float(theta), float(2 * f) / float(d))); }
    int first(int f, int d) const { return interleaved ? 2 * f : f; }
    int second(int f, int d) const { return interleaved ? 2 * f + 1 : f + d / 2; }
};

// TriAttention: q̄_f, E|q_f| over the prompt's pre-RoPE queries; for key j (pre-RoPE k_f),
// S(j, δ) = Σ_f |q̄_f||k_f| cos(ω_f (t − j + δ) + arg(q̄_f conj k_f)) + Σ_f (E|q_f| − |q̄_f|)|k_f|,
// t = T_p − 1, δ = 1, 2, ..., 65536, mean over δ; z-score per head, max over the group,
// mean over layers: one set per KV head for every layer.
inline Ref triattention(const Att& a, int64_t B, const Rope& rope) {
    const int F = a.d / 2;
    std::vector<std::vector<double>> agg(size_t(a.Hkv), std::vector<double>(size_t(a.Tp), 0.0));
    for (int l = 0; l < a.L; ++l) {
        std::vector<std::vector<double>> z(size_t(a.H), std::vector<double>(size_t(a.Tp), 0.0));
        for (int h = 0; h < a.H; ++h) {
            std::vector<double> cre(size_t(F), 0), cim(size_t(F), 0), eabs(size_t(F), 0);
            for (int64_t i = 0; i < a.Tp; ++i)
                for (int f = 0; f < F; ++f) {
                    const double re = Att::at(a.qPre[size_t(l)], i, h, a.d, rope.first(f, a.d));
                    const double im = Att::at(a.qPre[size_t(l)], i, h, a.d, rope.second(f, a.d));
                    cre[size_t(f)] += re / double(a.Tp);
                    cim[size_t(f)] += im / double(a.Tp);
                    eabs[size_t(f)] += std::hypot(re, im) / double(a.Tp);
                }
            std::vector<double>& s = z[size_t(h)];
            for (int64_t j = 0; j < a.Tp; ++j) {
                const int g = h / a.group();
                double acc = 0;
                int n = 0;
                for (double delta = 1; delta <= 65536; delta *= 2, ++n)
                    for (int f = 0; f < F; ++f) {
                        const double kre = Att::at(a.kPre[size_t(l)], j, g, a.d, rope.first(f, a.d));
                        const double kim = Att::at(a.kPre[size_t(l)], j, g, a.d, rope.second(f, a.d));
                        const double cabs = std::hypot(cre[size_t(f)], cim[size_t(f)]), kabs = std::hypot(kre, kim);
                        const double phi = std::atan2(cim[size_t(f)] * kre - cre[size_t(f)] * kim, cre[size_t(f)] * kre + cim[size_t(f)] * kim);
                        acc += cabs * kabs * std::cos(rope.omega(f, a.d) * (double(a.Tp - 1 - j) + delta) + phi) +
                               (eabs[size_t(f)] - cabs) * kabs;
                    }
                s[size_t(j)] = acc / n;
            }
            const double mean = std::accumulate(s.begin(), s.end(), 0.0) / double(a.Tp);
            double var = 0;
            for (double x : s) var += (x - mean) * (x - mean) / double(a.Tp);
            for (double& x : s) x = (x - mean) / std::sqrt(var);
        }
        const auto r = reduce(z, a.Hkv, Agg::Max);
        for (int g = 0; g < a.Hkv; ++g)
            for (int64_t j = 0; j < a.Tp; ++j) agg[size_t(g)][size_t(j)] += r[size_t(g)][size_t(j)] / a.L;
    }
    std::vector<std::vector<std::vector<double>>> s(size_t(a.L), agg);
    return perHead(a, s, [&](int) { return std::make_tuple(int64_t(0), a.Tp, B, int64_t(0), int64_t(0)); });
}

// ExpectedAttention: μ, Σ (1/n) of pre-RoPE queries i ∈ [n_sink, T_p); R̄ = mean of the RoPE
// matrices at T_p .. T_p + F − 1; z_j = μ'·k_j/√d + k_jᵀΣ'k_j/(2d) over post-RoPE keys
// j ≥ n_sink; softmax, group mean, times ||v_j||; [0, n_sink) kept.
inline Ref expected(const Att& a, int64_t B, const Rope& rope, int64_t ns, int64_t F) {
    const int d = a.d;
    std::vector<std::vector<double>> R(size_t(d), std::vector<double>(size_t(d), 0.0));
    for (int f = 0; f < d / 2; ++f) {
        double c = 0, s = 0;
        for (int64_t p = a.Tp; p < a.Tp + F; ++p) {
            c += std::cos(double(p) * rope.omega(f, d)) / double(F);
            s += std::sin(double(p) * rope.omega(f, d)) / double(F);
        }
        const int x = rope.first(f, d), y = rope.second(f, d);
        R[size_t(x)][size_t(x)] = c, R[size_t(x)][size_t(y)] = -s, R[size_t(y)][size_t(x)] = s, R[size_t(y)][size_t(y)] = c;
    }
    std::vector<std::vector<std::vector<double>>> out(size_t(a.L));
    for (int l = 0; l < a.L; ++l) {
        std::vector<std::vector<double>> soft(size_t(a.H), std::vector<double>(size_t(a.Tp), 0.0));
        for (int h = 0; h < a.H; ++h) {
            const double n = double(a.Tp - ns);
            std::vector<double> mu(size_t(d), 0.0);
            std::vector<std::vector<double>> cov(size_t(d), std::vector<double>(size_t(d), 0.0));
            for (int64_t i = ns; i < a.Tp; ++i)
                for (int x = 0; x < d; ++x) mu[size_t(x)] += Att::at(a.qPre[size_t(l)], i, h, d, x) / n;
            for (int64_t i = ns; i < a.Tp; ++i)
                for (int x = 0; x < d; ++x)
                    for (int y = 0; y < d; ++y)
                        cov[size_t(x)][size_t(y)] += (Att::at(a.qPre[size_t(l)], i, h, d, x) - mu[size_t(x)]) *
                                                     (Att::at(a.qPre[size_t(l)], i, h, d, y) - mu[size_t(y)]) / n;
            std::vector<double> mu2(size_t(d), 0.0);
            std::vector<std::vector<double>> rc(size_t(d), std::vector<double>(size_t(d), 0.0)), cov2 = rc;
            for (int x = 0; x < d; ++x)
                for (int y = 0; y < d; ++y) {
                    mu2[size_t(x)] += R[size_t(x)][size_t(y)] * mu[size_t(y)];
                    for (int z = 0; z < d; ++z) rc[size_t(x)][size_t(y)] += R[size_t(x)][size_t(z)] * cov[size_t(z)][size_t(y)];
                }
            for (int x = 0; x < d; ++x)
                for (int y = 0; y < d; ++y)
                    for (int z = 0; z < d; ++z) cov2[size_t(x)][size_t(y)] += rc[size_t(x)][size_t(z)] * R[size_t(y)][size_t(z)];
            const int g = h / a.group();
            double mx = -kForced;
            std::vector<double>& zs = soft[size_t(h)];
            for (int64_t j = ns; j < a.Tp; ++j) {
                double lin = 0, quad = 0;
                for (int x = 0; x < d; ++x) {
                    const double kx = Att::at(a.k[size_t(l)], j, g, d, x);
                    lin += mu2[size_t(x)] * kx;
                    for (int y = 0; y < d; ++y) quad += kx * cov2[size_t(x)][size_t(y)] * Att::at(a.k[size_t(l)], j, g, d, y);
                }
                zs[size_t(j)] = lin / std::sqrt(double(d)) + quad / (2.0 * d);
                mx = std::max(mx, zs[size_t(j)]);
            }
            double sum = 0;
            for (int64_t j = ns; j < a.Tp; ++j) sum += std::exp(zs[size_t(j)] - mx);
            for (int64_t j = ns; j < a.Tp; ++j) zs[size_t(j)] -= mx + std::log(sum);  // log softmax
        }
        // Scores in log space (the probabilities underflow): log(mean_group softmax · ||v||).
        out[size_t(l)].assign(size_t(a.Hkv), std::vector<double>(size_t(a.Tp), 0.0));
        for (int g = 0; g < a.Hkv; ++g)
            for (int64_t j = ns; j < a.Tp; ++j) {
                double mx = -kForced, sum = 0, vn = 0;
                for (int m = 0; m < a.group(); ++m) mx = std::max(mx, soft[size_t(g * a.group() + m)][size_t(j)]);
                for (int m = 0; m < a.group(); ++m) sum += std::exp(soft[size_t(g * a.group() + m)][size_t(j)] - mx);
                for (int x = 0; x < d; ++x) vn += std::pow(Att::at(a.v[size_t(l)], j, g, d, x), 2);
                out[size_t(l)][size_t(g)][size_t(j)] = mx + std::log(sum / a.group()) + 0.5 * std::log(vn);
            }
    }
    return perHead(a, out, [&](int) { return std::make_tuple(ns, a.Tp, B - ns, int64_t(0), ns); });
}

}  // namespace kvref
