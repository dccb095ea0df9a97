// Weight quantizers and low-rank error reconstruction (issue 8) against independent
// references: the reference's MXINT test vectors (weibull-and-quantization.md §2.3),
// direct implementations of the GPTQ/RSQ WeightQuantizer formulas written here, the
// bitsandbytes NF4 code book, a Jacobi SVD written here, and the identities of §2.1–§2.2
// (S = I is the truncated SVD, diagonal R makes QERA-exact equal QERA-approx, Eckart–Young).
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "attnscope/analyses/quant.h"
#include "attnscope/error.h"

using namespace attnscope;

namespace {

std::vector<float> gaussian(size_t n, uint64_t seed, double sd = 1.0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0, sd);
    std::vector<float> v(n);
    for (float& x : v) x = float(g(rng));
    return v;
}

// The WeightQuantizer of rsq fake_quant/quant_utils.py, transcribed for one group.
std::vector<float> rtnDirect(const std::vector<float>& x, int bits, bool sym, bool mse) {
    const float maxq = sym ? float((1 << (bits - 1)) - 1) : float((1 << bits) - 1);
    float xmin = std::min(0.f, *std::min_element(x.begin(), x.end()));
    float xmax = std::max(0.f, *std::max_element(x.begin(), x.end()));
    auto qd = [&](float v, float scale, float zero) {
        if (sym) return scale * std::clamp(std::nearbyint(v / scale), -(maxq + 1), maxq);
        return scale * (std::clamp(std::nearbyint(v / scale) + zero, 0.f, maxq) - zero);
    };
    float scale, zero = 0;
    if (sym) {
        xmax = std::max(std::max(std::fabs(xmin), xmax), 1e-5f);
        scale = xmax / maxq;
    } else {
        if (xmin == 0 && xmax == 0) xmin = -1, xmax = 1;
        scale = std::max(xmax - xmin, 1e-5f) / maxq;
        zero = std::nearbyint(-xmin / scale);
    }
    if (mse) {
        float best = INFINITY;
        for (int i = 0; i < 80; ++i) {
            const float p = float(1 - i / 100.0);
            const float s1 = sym ? p * xmax / maxq : (p * xmax - p * xmin) / maxq;
            const float z1 = sym ? 0.f : std::nearbyint(-(p * xmin) / s1);
            float err = 0;
            for (float v : x) err += std::pow(std::fabs(qd(v, s1, z1) - v), 2.4f);
            if (err < best) best = err, scale = s1, zero = z1;
        }
    }
    std::vector<float> out;
    for (float v : x) out.push_back(qd(v, scale, zero));
    return out;
}

// One-sided Jacobi SVD of a [m × n] matrix (m ≥ n): returns U·Σ columns and V, sorted by σ.
struct Svd {
    std::vector<std::vector<double>> us;  // n columns of length m: σ_i u_i
    std::vector<std::vector<double>> v;   // n columns of length n
    std::vector<double> sigma;
};
Svd jacobiSvd(const std::vector<double>& a, int m, int n) {
    const size_t nn = static_cast<size_t>(n), mm = static_cast<size_t>(m);
    std::vector<std::vector<double>> c(nn, std::vector<double>(mm)), v(nn, std::vector<double>(nn, 0.0));
    for (int j = 0; j < n; ++j) {
        for (int i = 0; i < m; ++i) c[size_t(j)][size_t(i)] = a[size_t(i * n + j)];
        v[size_t(j)][size_t(j)] = 1;
    }
    for (int sweep = 0; sweep < 60; ++sweep) {
        double off = 0;
        for (int p = 0; p < n; ++p)
            for (int q = p + 1; q < n; ++q) {
                double alpha = 0, beta = 0, gamma = 0;
                for (int i = 0; i < m; ++i) {
                    alpha += c[size_t(p)][size_t(i)] * c[size_t(p)][size_t(i)];
                    beta += c[size_t(q)][size_t(i)] * c[size_t(q)][size_t(i)];
                    gamma += c[size_t(p)][size_t(i)] * c[size_t(q)][size_t(i)];
                }
                if (std::fabs(gamma) <= 1e-300) continue;
                off = std::max(off, std::fabs(gamma) / std::sqrt(alpha * beta));
                const double zeta = (beta - alpha) / (2 * gamma);
                const double t = (zeta >= 0 ? 1 : -1) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
                const double cs = 1 / std::sqrt(1 + t * t), sn = cs * t;
                for (auto* mat : {&c, &v})
                    for (size_t i = 0; i < (*mat)[0].size(); ++i) {
                        const double x = (*mat)[size_t(p)][i], y = (*mat)[size_t(q)][i];
                        (*mat)[size_t(p)][i] = cs * x - sn * y;
                        (*mat)[size_t(q)][i] = sn * x + cs * y;
                    }
            }
        if (off < 1e-15) break;
    }
    std::vector<int> order(static_cast<size_t>(n));
    std::vector<double> norms(static_cast<size_t>(n));
    for (int j = 0; j < n; ++j) {
        order[size_t(j)] = j;
        for (double x : c[size_t(j)]) norms[size_t(j)] += x * x;
        norms[size_t(j)] = std::sqrt(norms[size_t(j)]);
    }
    std::sort(order.begin(), order.end(), [&](int x, int y) { return norms[size_t(x)] > norms[size_t(y)]; });
    Svd s;
    for (int j : order) {
        s.us.push_back(c[size_t(j)]);
        s.v.push_back(v[size_t(j)]);
        s.sigma.push_back(norms[size_t(j)]);
    }
    return s;
}

// A random calibration set: R = XᵀX/N with correlated channels of uneven scale.
InputStats statsFrom(int in, int n, uint64_t seed) {
    const std::vector<float> z = gaussian(size_t(n * in), seed);
    const std::vector<float> mix = gaussian(size_t(in * in), seed + 1, 0.5);
    std::vector<double> x(size_t(n * in), 0.0);
    for (int t = 0; t < n; ++t)
        for (int j = 0; j < in; ++j) {
            double acc = z[size_t(t * in + j)] * (1 + j % 5);  // uneven channel scales
            for (int i = 0; i < in; ++i) acc += z[size_t(t * in + i)] * mix[size_t(i * in + j)];
            x[size_t(t * in + j)] = acc;
        }
    InputStats s;
    s.dim = in;
    s.tokens = n;
    s.r.assign(size_t(in * in), 0.0);
    s.meanAbs.assign(size_t(in), 0.0);
    for (int t = 0; t < n; ++t)
        for (int i = 0; i < in; ++i) {
            s.meanAbs[size_t(i)] += std::fabs(x[size_t(t * in + i)]) / n;
            for (int j = 0; j < in; ++j) s.r[size_t(i * in + j)] += x[size_t(t * in + i)] * x[size_t(t * in + j)] / n;
        }
    return s;
}

Matrix2D matrix(int64_t rows, int64_t cols, std::vector<float> data) { return {rows, cols, std::move(data)}; }

// ‖W − Ŵ‖ relative and √(tr(E R Eᵀ)/tr(W R Wᵀ)), computed here in double.
std::pair<double, double> directErrors(const Matrix2D& w, const Matrix2D& what, const InputStats& s) {
    const int64_t out = w.rows, in = w.cols;
    double e2 = 0, w2 = 0, ere = 0, wrw = 0;
    for (int64_t o = 0; o < out; ++o) {
        for (int64_t i = 0; i < in; ++i) {
            const double e = double(w.at(o, i)) - double(what.at(o, i));
            e2 += e * e;
            w2 += double(w.at(o, i)) * w.at(o, i);
            for (int64_t j = 0; j < in; ++j) {
                const double rij = s.r[size_t(i * in + j)];
                ere += e * rij * (double(w.at(o, j)) - double(what.at(o, j)));
                wrw += double(w.at(o, i)) * rij * w.at(o, j);
            }
        }
    }
    return {std::sqrt(e2 / w2), std::sqrt(std::max(ere, 0.0) / wrw)};
}

}  // namespace

class TestQuant : public QObject {
    Q_OBJECT
private slots:
    void mxintTestVectors();
    void mxintBlocks();
    void rtnMatchesDirect();
    void rtnGridProperties();
    void nf4CodeBook();
    void nfQuantizer();
    void registry();
    void lorcIsTruncatedSvd();
    void diagonalRExactEqualsApprox();
    void qeraExactIsOptimal();
    void eckartYoungTail();
    void choleskyMatchesEigh();
    void singularR();
};

void TestQuant::mxintTestVectors() {
    const std::vector<float> x = {1.0f, 0.3f, -0.6f, 1.9f};
    WeightQuantParams p;
    p.scheme = "mxint";
    p.bits = 4;
    const std::vector<float> q4 = fakeQuantize(x.data(), 1, 4, p);
    const std::vector<float> want4 = {1.0f, 0.25f, -0.5f, 1.75f};
    for (int i = 0; i < 4; ++i) QCOMPARE(q4[size_t(i)], want4[size_t(i)]);
    p.bits = 8;
    const std::vector<float> q8 = fakeQuantize(x.data(), 1, 4, p);
    const std::vector<float> want8 = {1.0f, 0.296875f, -0.59375f, 1.90625f};
    for (int i = 0; i < 4; ++i) QCOMPARE(q8[size_t(i)], want8[size_t(i)]);
}

void TestQuant::mxintBlocks() {
    // Two blocks of 32 in one row: the second one's values are ~1000x smaller and get their
    // own exponent, so they keep precision (a per-row scale would zero them all).
    std::vector<float> x = gaussian(64, 7);
    for (int i = 32; i < 64; ++i) x[size_t(i)] *= 1e-3f;
    WeightQuantParams p;
    p.scheme = "mxint";
    p.bits = 6;
    p.bf16Input = false;
    const std::vector<float> q = fakeQuantize(x.data(), 1, 64, p);
    for (int b = 0; b < 2; ++b) {
        float amax = 0;
        for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[size_t(b * 32 + i)]));
        int e;
        std::frexp(amax, &e);                       // amax = f·2^e, f in [0.5, 1)
        const double scale = std::ldexp(1.0, e - 1);  // 2^(exponent of amax)
        for (int i = 0; i < 32; ++i) {
            const double v = x[size_t(b * 32 + i)];
            const double m = std::min(std::nearbyint(std::fabs(v) / scale * 16), 31.0);
            QCOMPARE(double(q[size_t(b * 32 + i)]), std::copysign(m * scale / 16, v));
        }
    }
}

void TestQuant::rtnMatchesDirect() {
    const int rows = 6, cols = 48;
    const std::vector<float> w = gaussian(size_t(rows * cols), 3, 0.05);
    for (const char* scheme : {"rtn-sym", "rtn-asym"})
        for (int bits : {2, 3, 4, 8})
            for (int group : {-1, 16, 20})
                for (bool mse : {false, true}) {
                    WeightQuantParams p{scheme, bits, group, mse};
                    const std::vector<float> q = fakeQuantize(w.data(), rows, cols, p);
                    for (int r = 0; r < rows; ++r)
                        for (int c0 = 0; c0 < cols; c0 += group < 0 ? cols : group) {
                            const int n = std::min(group < 0 ? cols : group, cols - c0);
                            const std::vector<float> g(w.begin() + r * cols + c0, w.begin() + r * cols + c0 + n);
                            const std::vector<float> want = rtnDirect(g, bits, scheme[4] == 's', mse);
                            for (int j = 0; j < n; ++j) QCOMPARE(q[size_t(r * cols + c0 + j)], want[size_t(j)]);
                        }
                }
}

void TestQuant::rtnGridProperties() {
    // Symmetric 3-bit per row: at most 8 levels, all multiples of max|x|/3; asymmetric at
    // most 2^b levels and the row's extremes within half a step.
    const std::vector<float> w = gaussian(4 * 100, 11);
    const std::vector<float> qs = fakeQuantize(w.data(), 4, 100, {"rtn-sym", 3, -1});
    const std::vector<float> qa = fakeQuantize(w.data(), 4, 100, {"rtn-asym", 3, -1});
    for (int r = 0; r < 4; ++r) {
        float amax = 0, mn = 0, mx = 0;
        for (int c = 0; c < 100; ++c) {
            amax = std::max(amax, std::fabs(w[size_t(r * 100 + c)]));
            mn = std::min(mn, w[size_t(r * 100 + c)]);
            mx = std::max(mx, w[size_t(r * 100 + c)]);
        }
        std::vector<float> ls(qs.begin() + r * 100, qs.begin() + r * 100 + 100), la(qa.begin() + r * 100, qa.begin() + r * 100 + 100);
        for (float v : ls) QVERIFY(std::fabs(v / (amax / 3) - std::nearbyint(v / (amax / 3))) < 1e-5);
        std::sort(ls.begin(), ls.end());
        std::sort(la.begin(), la.end());
        QVERIFY(std::unique(ls.begin(), ls.end()) - ls.begin() <= 8);
        QVERIFY(std::unique(la.begin(), la.end()) - la.begin() <= 8);
        const float step = (mx - mn) / 7;
        QVERIFY(std::fabs(la.front() - mn) <= step / 2 + 1e-6f);
        QVERIFY(std::fabs(la.back() - mx) <= step / 2 + 1e-6f);
    }
}

void TestQuant::nf4CodeBook() {
    // bitsandbytes' NF4 table (functional.py / kernels), the published values.
    const double nf4[] = {-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                          -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                          0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                          0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0};
    const std::vector<float> t = normalFloatTable(4);
    QCOMPARE(t.size(), size_t(16));
    for (int i = 0; i < 16; ++i) QVERIFY2(std::fabs(t[size_t(i)] - nf4[i]) < 2e-7, qPrintable(QString::number(i)));
    for (int b = 2; b <= 8; ++b) {
        const std::vector<float> tb = normalFloatTable(b);
        QCOMPARE(tb.size(), size_t(1) << b);
        QCOMPARE(tb.front(), -1.0f);
        QCOMPARE(tb.back(), 1.0f);
        QVERIFY(std::is_sorted(tb.begin(), tb.end()));
        QVERIFY(std::count(tb.begin(), tb.end(), 0.0f) == 1);
    }
}

void TestQuant::nfQuantizer() {
    // Blocks of 64 of the flattened matrix (rows of 40: blocks cross rows), absmax scaled.
    const std::vector<float> w = gaussian(8 * 40, 5);
    const std::vector<float> q = fakeQuantize(w.data(), 8, 40, {"nf4", 4, 0});
    const std::vector<float> t = normalFloatTable(4);
    for (size_t b0 = 0; b0 < w.size(); b0 += 64) {
        float amax = 0;
        for (size_t i = b0; i < b0 + 64; ++i) amax = std::max(amax, std::fabs(w[i]));
        for (size_t i = b0; i < b0 + 64; ++i) {
            float best = INFINITY;
            float want = 0;
            for (float level : t)
                if (std::fabs(w[i] / amax - level) < best) best = std::fabs(w[i] / amax - level), want = level * amax;
            QCOMPARE(q[i], want);
        }
    }
}

void TestQuant::registry() {
    std::vector<std::string> names;
    for (const WeightQuantizerInfo& i : weightQuantizers()) names.push_back(i.name);
    QCOMPARE(names, (std::vector<std::string>{"rtn-sym", "rtn-asym", "mxint", "nf4"}));
    const float x[4] = {1, 2, 3, 4};
    QVERIFY_THROWS_EXCEPTION(Error, fakeQuantize(x, 1, 4, {"int3", 3, 0}));
    QVERIFY_THROWS_EXCEPTION(Error, fakeQuantize(x, 1, 4, {"rtn-sym", 1, 0}));
    QVERIFY_THROWS_EXCEPTION(Error, fakeQuantize(x, 1, 4, {"mxint", 9, 0}));
    QCOMPARE(findWeightQuantizer("mxint").defaultGroup, 32);
    QCOMPARE(parseReconMethod("qera-exact"), ReconMethod::QeraExact);
    QVERIFY_THROWS_EXCEPTION(Error, parseReconMethod("svd"));
}

void TestQuant::lorcIsTruncatedSvd() {
    const int out = 20, in = 12;
    const Matrix2D w = matrix(out, in, gaussian(size_t(out * in), 21));
    const Matrix2D wq = matrix(out, in, fakeQuantize(w.data.data(), out, in, {"rtn-sym", 3, -1}));
    const ReconLab lab(w, wq, statsFrom(in, 200, 5), {SqrtRoute::Eigh, 1e-8, 0, {ReconMethod::Lorc}});
    std::vector<double> e(size_t(out * in));
    for (size_t i = 0; i < e.size(); ++i) e[i] = double(w.data[i]) - double(wq.data[i]);
    const Svd s = jacobiSvd(e, out, in);
    for (int k = 0; k <= in; ++k) {
        const Matrix2D c = lab.corrected(ReconMethod::Lorc, k);
        double maxDiff = 0;
        for (int o = 0; o < out; ++o)
            for (int i = 0; i < in; ++i) {
                double ek = 0;  // [E]_k
                for (int j = 0; j < k; ++j) ek += s.us[size_t(j)][size_t(o)] * s.v[size_t(j)][size_t(i)];
                maxDiff = std::max(maxDiff, std::fabs(double(c.at(o, i)) - double(wq.at(o, i)) - ek));
            }
        QVERIFY2(maxDiff < 1e-5, qPrintable(QString("rank %1: %2").arg(k).arg(maxDiff)));
        if (k < in) QVERIFY(std::fabs(lab.curve(ReconMethod::Lorc).sigma[size_t(k)] - s.sigma[size_t(k)]) < 1e-9);
    }
}

void TestQuant::diagonalRExactEqualsApprox() {
    const int out = 16, in = 10;
    const Matrix2D w = matrix(out, in, gaussian(size_t(out * in), 31));
    const Matrix2D wq = matrix(out, in, fakeQuantize(w.data.data(), out, in, {"rtn-asym", 2, -1}));
    InputStats s;
    s.dim = in;
    s.tokens = 100;
    s.r.assign(size_t(in * in), 0.0);
    s.meanAbs.assign(size_t(in), 1.0);
    for (int i = 0; i < in; ++i) s.r[size_t(i * in + i)] = 0.1 + i * i;  // uncorrelated channels
    for (SqrtRoute route : {SqrtRoute::Eigh, SqrtRoute::Cholesky}) {
        const ReconLab lab(w, wq, s, {route, 1e-12, 0, {ReconMethod::QeraApprox, ReconMethod::QeraExact}});
        for (int k = 0; k <= in; ++k) {
            const Matrix2D a = lab.corrected(ReconMethod::QeraApprox, k), b = lab.corrected(ReconMethod::QeraExact, k);
            for (size_t i = 0; i < a.data.size(); ++i) QVERIFY(std::fabs(a.data[i] - b.data[i]) < 1e-5);
            QVERIFY(std::fabs(lab.at(ReconMethod::QeraApprox, k).outputRelErr - lab.at(ReconMethod::QeraExact, k).outputRelErr) < 1e-9);
        }
    }
}

void TestQuant::qeraExactIsOptimal() {
    const int out = 24, in = 16;
    const Matrix2D w = matrix(out, in, gaussian(size_t(out * in), 41));
    const InputStats s = statsFrom(in, 400, 9);
    for (const char* scheme : {"rtn-sym", "mxint"}) {
        const Matrix2D wq = matrix(out, in, fakeQuantize(w.data.data(), out, in, {scheme, 3, scheme[0] == 'm' ? 8 : -1}));
        const ReconLab lab(w, wq, s);
        const auto [wErr0, oErr0] = directErrors(w, wq, s);
        QVERIFY(std::fabs(lab.quantOnly().outputRelErr - oErr0) < 1e-9);
        QVERIFY(std::fabs(lab.quantOnly().weightRelErr - wErr0) < 1e-9);
        for (int k = 0; k <= in; ++k) {
            const auto [wE, oE] = directErrors(w, lab.corrected(ReconMethod::QeraExact, k), s);
            for (ReconMethod m : {ReconMethod::Lorc, ReconMethod::Lqer, ReconMethod::QeraApprox}) {
                const auto [wM, oM] = directErrors(w, lab.corrected(m, k), s);
                QVERIFY2(oE <= oM + 1e-6, qPrintable(QString("%1 rank %2: %3 > %4").arg(reconMethodName(m)).arg(k).arg(oE).arg(oM)));
                // the prefix-sum curves agree with the errors of the reconstructed matrices
                QVERIFY(std::fabs(lab.at(m, k).outputRelErr - oM) < 1e-5);
                QVERIFY(std::fabs(lab.at(m, k).weightRelErr - wM) < 1e-5);
            }
            QVERIFY(std::fabs(lab.at(ReconMethod::QeraExact, k).outputRelErr - oE) < 1e-5);
        }
        QVERIFY(lab.at(ReconMethod::QeraExact, in).outputRelErr < 1e-5);  // full rank: Ŵ = W
    }
}

void TestQuant::eckartYoungTail() {
    const int out = 18, in = 14;
    const Matrix2D w = matrix(out, in, gaussian(size_t(out * in), 51));
    const Matrix2D wq = matrix(out, in, fakeQuantize(w.data.data(), out, in, {"nf4", 4, 0}));
    const InputStats s = statsFrom(in, 300, 13);
    for (SqrtRoute route : {SqrtRoute::Eigh, SqrtRoute::Cholesky}) {
        const ReconLab lab(w, wq, s, {route, 1e-12, 0, {ReconMethod::QeraExact}});
        const std::vector<double> tail = lab.qeraTail();
        QCOMPARE(tail.size(), size_t(in + 1));
        for (int k = 0; k <= in; ++k) {
            const double direct = directErrors(w, lab.corrected(ReconMethod::QeraExact, k), s).second;
            QVERIFY2(std::fabs(tail[size_t(k)] - direct) < 1e-5, qPrintable(QString("%1 vs %2").arg(tail[size_t(k)]).arg(direct)));
        }
    }
}

void TestQuant::choleskyMatchesEigh() {
    const int out = 12, in = 20;
    const Matrix2D w = matrix(out, in, gaussian(size_t(out * in), 61));
    const Matrix2D wq = matrix(out, in, fakeQuantize(w.data.data(), out, in, {"rtn-asym", 3, 10}));
    const InputStats s = statsFrom(in, 500, 17);
    const ReconLab a(w, wq, s, {SqrtRoute::Eigh, 1e-12, 0, {ReconMethod::QeraExact}});
    const ReconLab b(w, wq, s, {SqrtRoute::Cholesky, 1e-12, 0, {ReconMethod::QeraExact}});
    QCOMPARE(b.dampUsed(), 0.0);
    for (int k : {1, 4, 9, 12}) {
        const Matrix2D x = a.corrected(ReconMethod::QeraExact, k), y = b.corrected(ReconMethod::QeraExact, k);
        for (size_t i = 0; i < x.data.size(); ++i) QVERIFY(std::fabs(x.data[i] - y.data[i]) < 1e-4);
    }
}

void TestQuant::singularR() {
    // Fewer tokens than channels: R has rank 6 of 16. Cholesky needs damping; both routes
    // still improve on no reconstruction.
    const int out = 10, in = 16;
    const Matrix2D w = matrix(out, in, gaussian(size_t(out * in), 71));
    const Matrix2D wq = matrix(out, in, fakeQuantize(w.data.data(), out, in, {"rtn-sym", 2, -1}));
    const InputStats s = statsFrom(in, 6, 19);
    const ReconLab chol(w, wq, s, {SqrtRoute::Cholesky, 1e-8, 0, {ReconMethod::QeraExact}});
    QVERIFY(chol.dampUsed() > 0);
    const ReconLab eig(w, wq, s, {SqrtRoute::Eigh, 1e-8, 0, {ReconMethod::QeraExact}});
    for (const ReconLab* lab : {&chol, &eig}) {
        const double e = lab->at(ReconMethod::QeraExact, 6).outputRelErr;
        QVERIFY(std::isfinite(e));
        QVERIFY(e < 1e-3);  // rank 6 covers the whole calibration subspace
    }
}

QTEST_APPLESS_MAIN(TestQuant)
#include "tst_quant.moc"
