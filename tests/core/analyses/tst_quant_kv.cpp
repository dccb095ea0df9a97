// KV-cache and attention-score quantization (issue 8) against independent references: the
// orthonormality of Hadamard matrices, OSCAR's README bits/element (2.28), KIVI's grouping
// rules written out here, a direct SageAttention INT8 simulation with its own metric, and
// the identity that subtracting the key mean leaves every softmax row unchanged.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "attnscope/analyses/quant.h"
#include "attnscope/error.h"

using namespace attnscope;

namespace {

QkvTensors randomKv(int64_t T, int H, int Hkv, int d, uint64_t seed, float keyBias = 0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0, 1);
    QkvTensors x;
    x.T = T;
    x.nHeads = H;
    x.nKvHeads = Hkv;
    x.headDim = d;
    for (int64_t i = 0; i < T * H * d; ++i) x.q.push_back(g(rng));
    for (int64_t i = 0; i < T * Hkv * d; ++i) x.k.push_back(g(rng) + (i % d == 3 ? keyBias : 0.f));  // an outlier channel
    for (int64_t i = 0; i < T * Hkv * d; ++i) x.v.push_back(g(rng));
    return x;
}

// KIVI's min-max quantizer on one group (clamp, then round half to even).
void kiviGroup(std::vector<float*> xs, int bits) {
    float mn = INFINITY, mx = -INFINITY;
    for (float* x : xs) mn = std::min(mn, *x), mx = std::max(mx, *x);
    const float s = (mx - mn) / float((1 << bits) - 1);
    for (float* x : xs) *x = s == 0 ? mn : std::nearbyint(std::clamp((*x - mn) / s, 0.f, float((1 << bits) - 1))) * s + mn;
}

}  // namespace

class TestQuantKv : public QObject {
    Q_OBJECT
private slots:
    void hadamardOrthonormal();
    void effectiveBits();
    void kiviMatchesDirect();
    void rotationsAreLossless();
    void oscarWindowsStayBf16();
    void zipCacheSplit();
    void kSmoothingLeavesSoftmax();
    void sageInt8MatchesDirect();
    void smoothingHelpsInt4();
    void badInput();
};

void TestQuantKv::hadamardOrthonormal() {
    for (int d = 1; d <= 256; d *= 2) {
        const std::vector<double> h = hadamardMatrix(d);
        for (int i = 0; i < d; ++i) {
            for (int j = 0; j < d; ++j) {
                double dot = 0;
                for (int k = 0; k < d; ++k) dot += h[size_t(i * d + k)] * h[size_t(j * d + k)];
                QVERIFY(std::fabs(dot - (i == j ? 1.0 : 0.0)) < 1e-12);
                QVERIFY(std::fabs(std::fabs(h[size_t(i * d + j)]) - 1 / std::sqrt(double(d))) < 1e-15);
            }
        }
    }
    QVERIFY_THROWS_EXCEPTION(Error, hadamardMatrix(12));
}

void TestQuantKv::effectiveBits() {
    // OSCAR README: INT2, fp16 scale and zero per 128-group, 64 sink + 256 recent in BF16, 128K tokens.
    const double b = kvEffectiveBits(131072, 64 + 256, 2, 16, 128);
    QVERIFY2(std::fabs(b - 2.2836) < 5e-5, qPrintable(QString::number(b, 'g', 8)));
    QCOMPARE(QString::number(b, 'f', 2), QString("2.28"));
    QCOMPARE(kvEffectiveBits(4096, 0, 2, 16, 128), 2.25);  // QuaRot-INT2
}

namespace {

// KIVI (reference form): keys in groups of Gk tokens per channel up to T − T mod R, values
// per token in groups of Gv channels except the last R tokens; `group` is the parameter (0 =
// default: 32, values min(32, head dim)).
void checkKivi(int64_t T, int Hkv, int d, int group, int Gk, int Gv, int R, bool defaultResidual) {
    QkvTensors x = randomKv(T, 4, Hkv, d, 3);
    KvQuantParams p;
    p.method = KvMethod::Kivi;
    p.bits = 2;
    p.group = group;
    if (!defaultResidual) p.residual = R;
    p.fp16Params = false;
    const KvQuantized q = fakeQuantizeKv(x, p);
    std::vector<float> k = x.k, v = x.v;
    auto at = [&](std::vector<float>& a, int64_t t, int h, int c) { return &a[size_t((t * Hkv + h) * d + c)]; };
    const int64_t tq = T - T % R;
    for (int64_t t0 = 0; t0 < tq; t0 += Gk)
        for (int h = 0; h < Hkv; ++h)
            for (int c = 0; c < d; ++c) {
                std::vector<float*> g;
                for (int64_t t = t0; t < t0 + Gk; ++t) g.push_back(at(k, t, h, c));
                kiviGroup(g, 2);
            }
    for (int64_t t = 0; t < T - R; ++t)
        for (int h = 0; h < Hkv; ++h)
            for (int c0 = 0; c0 < d; c0 += Gv) {
                std::vector<float*> g;
                for (int c = c0; c < c0 + Gv; ++c) g.push_back(at(v, t, h, c));
                kiviGroup(g, 2);
            }
    for (size_t i = 0; i < k.size(); ++i) QVERIFY(std::fabs(q.k[i] - k[i]) < 1e-5);
    for (size_t i = 0; i < v.size(); ++i) QVERIFY(std::fabs(q.v[i] - v[i]) < 1e-5);
    QCOMPARE(q.bitsK, kvEffectiveBits(double(T), double(T - tq), 2, 16, Gk));
    QCOMPARE(q.bitsV, kvEffectiveBits(double(T), double(R), 2, 16, Gv));
    QCOMPARE(int(std::count(q.highPrecision.begin(), q.highPrecision.end(), 1)), int(R));
}

}  // namespace

void TestQuantKv::kiviMatchesDirect() {
    checkKivi(70, 2, 32, 16, 16, 16, 32, false);  // 64 keys in groups of 16 tokens
    // Defaults on a head of 8 channels (stories260K): keys in 32-token groups up to the
    // 128-token window, values grouped over the whole head.
    checkKivi(200, 1, 8, 0, 32, 8, 128, true);
}

void TestQuantKv::rotationsAreLossless() {
    // At 8 bits without clipping, rotate → quantize → rotate back loses almost nothing; a
    // non-orthogonal rotation would distort by far more.
    const QkvTensors x = randomKv(80, 4, 2, 32, 5);
    for (KvMethod m : {KvMethod::Hadamard, KvMethod::Oscar}) {
        KvQuantParams p;
        p.method = m;
        p.bits = 8;
        p.kClip = p.vClip = 1.0;
        p.sink = 0;
        p.residual = 0;
        const KvQuantized q = fakeQuantizeKv(x, p);
        double e = 0, n = 0;
        for (size_t i = 0; i < x.k.size(); ++i) e += std::pow(q.k[i] - x.k[i], 2), n += x.k[i] * x.k[i];
        QVERIFY2(std::sqrt(e / n) < 0.01, kvMethodName(m));
        QCOMPARE(q.bitsK, 8 + 32.0 / 32);
    }
}

void TestQuantKv::oscarWindowsStayBf16() {
    const QkvTensors x = randomKv(100, 4, 2, 32, 7);
    KvQuantParams p;
    p.method = KvMethod::Oscar;
    p.sink = 8;
    p.residual = 16;
    const KvQuantized q = fakeQuantizeKv(x, p);
    QCOMPARE(q.bitsK, kvEffectiveBits(100, 24, 2, 16, 32));
    for (int64_t t = 0; t < 100; ++t) {
        const bool hp = t < 8 || t >= 84;
        QCOMPARE(bool(q.highPrecision[size_t(t)]), hp);
        double e = 0, n = 0;
        for (int i = 0; i < 64; ++i) {
            const size_t j = size_t(t * 64 + i);
            e += std::pow(q.k[j] - x.k[j], 2);
            n += x.k[j] * x.k[j];
        }
        QVERIFY2(hp ? std::sqrt(e / n) < 1e-2 : std::sqrt(e / n) > 1e-2,  // BF16 vs 2-bit
                 qPrintable(QString("token %1: %2").arg(t).arg(std::sqrt(e / n))));
    }
}

void TestQuantKv::zipCacheSplit() {
    const QkvTensors x = randomKv(120, 4, 2, 32, 9);
    KvQuantParams p;
    p.method = KvMethod::ZipCache;
    const KvQuantized q = fakeQuantizeKv(x, p);
    // 40 % at 2 bits, 60 % at 4: between the two, plus the parameter overhead
    QVERIFY(q.bitsK > 0.4 * 2 + 0.6 * 4 && q.bitsK < 0.4 * 2 + 0.6 * 4 + 1);
    // KV head 0's value rows: ⌊0.4·120⌋ = 48 tokens at 2 bits (relative error ~0.3), the
    // rest at 4 bits (~0.07)
    int low = 0;
    for (int64_t t = 0; t < 120; ++t) {
        double e = 0, n = 0;
        for (int i = 0; i < 32; ++i) {
            const size_t j = size_t(t * 64 + i);
            e += std::pow(q.v[j] - x.v[j], 2);
            n += std::pow(x.v[j], 2);
        }
        low += std::sqrt(e / n) > 0.15;
    }
    QVERIFY2(low >= 40 && low <= 56, qPrintable(QString::number(low)));
}

void TestQuantKv::kSmoothingLeavesSoftmax() {
    const QkvTensors x = randomKv(96, 4, 2, 32, 11, 6.0f);
    ScoreQuantParams p;
    p.bits = 0;  // smoothing only
    p.smoothK = true;
    p.addBackRowBias = false;  // scores shifted by q·k̄ per row ...
    const AttnQuantResult r = analyseScoreQuant(x, p);
    for (const HeadError& e : r.heads) {
        QVERIFY(e.scoreRelErr > 0.1);  // ... which changes the scores a lot,
        QVERIFY2(e.klMax < 1e-6, qPrintable(QString::number(e.klMax)));  // but not one softmax row
        QVERIFY(e.tvMean < 1e-5);
        QVERIFY(e.outRelErr < 1e-5);
    }
    p.addBackRowBias = true;
    for (const HeadError& e : analyseScoreQuant(x, p).heads) QVERIFY(e.scoreRelErr < 1e-5);
}

void TestQuantKv::sageInt8MatchesDirect() {
    // Per-block INT8 without smoothing, written out: δ = max|x_g|/127 + 1e-7 over blocks of
    // rows, round half away from zero; score error over the causal entries.
    const int64_t T = 150;
    const int H = 2, d = 16, bq = 32, bk = 16;
    const QkvTensors x = randomKv(T, H, 1, d, 13, 3.0f);
    ScoreQuantParams p;
    p.bits = 8;
    p.groups = ScoreGroups::PerBlock;
    p.smoothK = false;
    p.blockQ = bq;
    p.blockK = bk;
    const AttnQuantResult r = analyseScoreQuant(x, p);
    auto quant = [](std::vector<double> a, int rows, int per, int dd) {
        for (int r0 = 0; r0 < rows; r0 += per) {
            double mx = 0;
            for (int i = r0 * dd; i < std::min(rows, r0 + per) * dd; ++i) mx = std::max(mx, std::fabs(a[size_t(i)]));
            const double delta = float(mx) / 127.f + 1e-7f;
            for (int i = r0 * dd; i < std::min(rows, r0 + per) * dd; ++i) a[size_t(i)] = std::round(float(a[size_t(i)]) / float(delta)) * delta;
        }
        return a;
    };
    std::vector<double> k(x.k.begin(), x.k.end());
    const std::vector<double> kq = quant(k, int(T), bk, d);
    const double scale = 1 / std::sqrt(double(d));
    for (int h = 0; h < H; ++h) {
        std::vector<double> q(size_t(T * d));
        for (int64_t t = 0; t < T; ++t)
            for (int c = 0; c < d; ++c) q[size_t(t * d + c)] = x.q[size_t((t * H + h) * d + c)];
        const std::vector<double> qq = quant(q, int(T), bq, d);
        double num = 0, den = 0;
        for (int64_t i = 0; i < T; ++i)
            for (int64_t j = 0; j <= i; ++j) {
                double s = 0, sh = 0;
                for (int c = 0; c < d; ++c) {
                    s += q[size_t(i * d + c)] * k[size_t(j * d + c)];
                    sh += qq[size_t(i * d + c)] * kq[size_t(j * d + c)];
                }
                num += std::pow((s - sh) * scale, 2);
                den += std::pow(s * scale, 2);
            }
        const double want = std::sqrt(num / den);
        QVERIFY2(std::fabs(r.heads[size_t(h)].scoreRelErr / want - 1) < 1e-3,
                 qPrintable(QString("%1 vs %2").arg(r.heads[size_t(h)].scoreRelErr).arg(want)));
    }
    QVERIFY(std::fabs(r.bitsQ - (8 + 32.0 * 5 / (150 * 16))) < 1e-12);  // 5 blocks of 32 rows
}

void TestQuantKv::smoothingHelpsInt4() {
    const QkvTensors x = randomKv(256, 4, 2, 32, 15, 8.0f);  // a large shared key channel
    ScoreQuantParams p;
    p.bits = 4;
    p.smoothK = false;
    const AttnQuantResult raw = analyseScoreQuant(x, p);
    p.smoothK = true;
    const AttnQuantResult smooth = analyseScoreQuant(x, p);
    for (size_t h = 0; h < raw.heads.size(); ++h) QVERIFY(smooth.heads[h].scoreRelErr < 0.7 * raw.heads[h].scoreRelErr);
    p.bits = 8;
    for (size_t h = 0; h < raw.heads.size(); ++h) QVERIFY(analyseScoreQuant(x, p).heads[h].scoreRelErr < smooth.heads[h].scoreRelErr);
}

void TestQuantKv::badInput() {
    QkvTensors x = randomKv(40, 4, 2, 24, 17);  // head dim 24: no Hadamard of that size
    KvQuantParams p;
    p.method = KvMethod::Hadamard;
    QVERIFY_THROWS_EXCEPTION(Error, fakeQuantizeKv(x, p));
    p.method = KvMethod::Kivi;
    p.group = 16;
    p.residual = 24;  // not a multiple of the group
    QVERIFY_THROWS_EXCEPTION(Error, fakeQuantizeKv(x, p));
    x.k.pop_back();
    QVERIFY_THROWS_EXCEPTION(Error, fakeQuantizeKv(x, {}));
    ScoreQuantParams s;
    s.bits = 5;
    QVERIFY_THROWS_EXCEPTION(Error, analyseScoreQuant(randomKv(8, 2, 1, 8, 1), s));
    QCOMPARE(parseKvMethod("oscar"), KvMethod::Oscar);
    QVERIFY_THROWS_EXCEPTION(Error, parseKvMethod("gear"));
}

QTEST_APPLESS_MAIN(TestQuantKv)
#include "tst_quant_kv.moc"
