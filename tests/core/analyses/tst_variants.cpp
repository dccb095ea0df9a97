// Attention-variants lab (core/src/analyses/variants; shared/reference/attention-variants-and-
// heads.md A–D): every variant's output and map against a direct O(T²) implementation written
// here in plain loops, at T = 257 and 1100 (lengths the linear variants' 128-row chunks do not
// divide), also computed in blocks of 97 query rows (how long prompts are computed), and the
// reference's identities: the softmax entry reproduces the trace's own attention, the degenerate
// settings reduce to softmax, TV = dropped mass for every mask, oracle top-k drops the least
// mass, Sinkhorn's fixed points, MALA's unit rows, BinaryAttention's Hamming identity, PSA's
// log r correction, RALA with α = 1, and causality of the prefix-sum linear attention.
#include <QtTest>

#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <tuple>

#include "analyses/variants/variants_lab.h"
#include "attnscope/analyses/variants.h"
#include "attnscope/error.h"
#include "attnscope/model.h"

using namespace attnscope;

namespace {

using Vec = std::vector<double>;

VariantHeadInput randomInput(int64_t T, int d, unsigned seed, double qMean = 0.0) {
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

double dot(const Vec& a, int64_t i, const Vec& b, int64_t j, int d) {
    double s = 0;
    for (int c = 0; c < d; ++c) s += a[size_t(i * d + c)] * b[size_t(j * d + c)];
    return s;
}

// O = W V for a map W [T, T].
Vec apply(const Vec& w, const VariantHeadInput& in, const Vec& v) {
    Vec o(size_t(in.T * in.dv), 0.0);
    for (int64_t i = 0; i < in.T; ++i)
        for (int64_t j = 0; j < in.T; ++j)
            for (int c = 0; c < in.dv; ++c)
                o[size_t(i * in.dv + c)] += w[size_t(i * in.T + j)] * v[size_t(j * in.dv + c)];
    return o;
}

// Softmax of row logits over the keys `keep(i, j)` allows (j ≤ i always required).
Vec refMaskedSoftmax(const VariantHeadInput& in, const std::function<bool(int64_t, int64_t)>& keep,
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

Vec refSoftmax(const VariantHeadInput& in, const std::function<bool(int64_t, int64_t)>& keep = nullptr) {
    return refMaskedSoftmax(
        in, keep ? keep : [](int64_t, int64_t) { return true; },
        [&](int64_t i, int64_t j) { return in.scale * dot(in.q, i, in.k, j, in.d); });
}

// φ-feature linear attention, quadratic: W_ij = φ(q_i)·φ(k_j) / Σ_l φ(q_i)·φ(k_l).
Vec refLinear(const VariantHeadInput& in, const std::function<double(double)>& phi) {
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

double maxAbsDiff(const Vec& a, const Vec& b) {
    double m = 0;
    for (size_t n = 0; n < a.size(); ++n) m = std::max(m, std::abs(a[n] - b[n]));
    return a.size() == b.size() ? m : 1e300;
}

double maxRelDiff(const Vec& a, const Vec& b) {
    double num = 0, den = 0;
    for (size_t n = 0; n < a.size(); ++n) {
        num = std::max(num, std::abs(a[n] - b[n]));
        den = std::max(den, std::abs(b[n]));
    }
    return a.size() == b.size() ? num / std::max(den, 1e-300) : 1e300;
}

VariantHeadOutput run(const std::string& name, const VariantHeadInput& in,
                      const std::vector<std::string>& params = {}) {
    return computeVariant(name, variantParams(variantInfo(name), params), in);
}

double median(Vec x) {
    std::sort(x.begin(), x.end());
    return x[(x.size() - 1) / 2];
}

Vec rowNorms(const Vec& x, int64_t T, int d) {
    Vec n(static_cast<size_t>(T));
    for (int64_t i = 0; i < T; ++i) n[size_t(i)] = std::sqrt(dot(x, i, x, i, d));
    return n;
}

double elu1(double x) { return x > 0 ? x + 1 : std::exp(x); }

}  // namespace

class TstVariants : public QObject {
    Q_OBJECT

private slots:
    void registryAndParameters() {
        QVERIFY(variantInfos().size() >= 12);
        std::set<VariantFamily> families;
        for (const VariantInfo& v : variantInfos()) {
            families.insert(v.family);
            QVERIFY2(!v.explanation.empty() && !v.source.empty(), v.name.c_str());
            for (char c : v.name) QVERIFY2(std::islower(c) || c == '_', v.name.c_str());  // snake_case
        }
        QCOMPARE(families.size(), size_t(5));
        QVERIFY_THROWS_EXCEPTION(Error, variantInfo("no_such_variant"));
        QVERIFY_THROWS_EXCEPTION(Error, variantParams(variantInfo("topk"), {"kk=3"}));
        QVERIFY_THROWS_EXCEPTION(Error, variantParams(variantInfo("topk"), {"k=0"}));  // below its minimum
        QVERIFY_THROWS_EXCEPTION(Error, variantParams(variantInfo("sinkhorn"), {"targets=uniform"}));
        const VariantParams p = variantParams(variantInfo("sinkhorn"), {"targets=mass_of_softmax", "n_it=4"});
        QCOMPARE(p.at("targets"), 1.0);
        QCOMPARE(variantParamText(variantInfo("sinkhorn"), p), std::string("n_it=4 targets=mass_of_softmax"));
    }

    // The softmax entry is the model's own attention: the trace's exact tile and head output.
    void softmaxReproducesTheTrace() {
        RandomModelSpec spec;
        spec.seed = 7;
        const auto model = Model::random(spec);
        std::vector<int32_t> ids(97);
        for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 37 + 11) % 256);
        const auto trace = model->run(ids, {});
        for (int head : {0, 3}) {
            const VariantHeadInput in = variantHeadInput(*model, *trace, 1, head);
            QVERIFY(!in.qPre.empty());
            const VariantHeadOutput out = run("softmax", in);
            const Matrix2D tile = trace->attentionTile(1, head, 0, in.T, 0, in.T);
            Vec ref(tile.data.begin(), tile.data.end());
            QVERIFY2(maxAbsDiff(out.map, ref) < 2e-6, qPrintable(QString::number(maxAbsDiff(out.map, ref))));
            const Matrix2D headOut = trace->captured(Capture::HeadOut, 1);
            Vec o;
            for (int64_t i = 0; i < in.T; ++i)
                for (int c = 0; c < in.dv; ++c) o.push_back(headOut.at(i, head * in.dv + c));
            QVERIFY(maxRelDiff(out.o, o) < 1e-5);
        }
        QVERIFY_THROWS_EXCEPTION(Error, variantHeadInput(*model, *trace, 2, 0));
    }

    void degenerateSettingsAreSoftmax() {
        const VariantHeadInput in = randomInput(257, 16, 1);
        const Vec P = refSoftmax(in);
        const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
            {"softmax", {}},
            {"topk", {"k=257"}},
            {"window", {"w=257"}},
            {"sinkhorn", {"n_it=1"}},
            {"selective", {}},
            {"affine_scaled", {}},
            {"routing", {"clusters=1"}},
            {"hyper", {"m=257", "min_seq_len=0"}},
            {"sea", {"k=257"}},
            {"power", {"w_local=257"}},
            {"agent", {"b=257"}},  // no agent is complete before any query: its own block is every key
            {"psa", {"rho0=1"}},
            {"cca", {"r=16"}}};  // the whole basis: q, k, v unchanged
        for (const auto& [name, params] : cases) {
            const VariantHeadOutput out = run(name, in, params);
            QVERIFY2(maxAbsDiff(out.map, P) < 1e-12, name.c_str());
            QVERIFY2(maxRelDiff(out.o, apply(P, in, in.v)) < 1e-12, name.c_str());
        }
        // BinaryAttention of entries ±c is softmax of the same q, k (σ = c).
        VariantHeadInput pm = in;
        for (Vec* x : {&pm.q, &pm.k})
            for (double& e : *x) e = e >= 0 ? 0.7 : -0.7;
        QVERIFY(maxAbsDiff(run("binary", pm).map, refSoftmax(pm)) < 1e-12);
        // Sinkhorn: softmax is a fixed point of softmax's own column targets.
        QVERIFY(maxAbsDiff(run("sinkhorn", in, {"n_it=6", "targets=mass_of_softmax"}).map, P) < 1e-9);
    }

    void directReferences_data() {
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("blockRows");  // 0: every row at once
        QTest::newRow("T=257") << 257 << 0;
        QTest::newRow("T=1100") << 1100 << 0;
        QTest::newRow("T=1100, blocks of 97 rows") << 1100 << 97;
    }
    // Each variant's output and map against its definition written out here.
    void directReferences() {
        QFETCH(int, T);
        QFETCH(int, blockRows);
        struct Blocks {
            int64_t was = variantBlockElements();
            ~Blocks() { variantBlockElements() = was; }
        } restore;
        if (blockRows > 0) variantBlockElements() = int64_t(blockRows) * T;
        const int d = 16;
        const VariantHeadInput in = randomInput(T, d, 2, 0.2);
        auto check = [&](const char* name, const std::vector<std::string>& params, const Vec& w, double tol) {
            const VariantHeadOutput out = run(name, in, params);
            QVERIFY2(maxAbsDiff(out.map, w) < tol,
                     qPrintable(QString("%1 map %2").arg(name).arg(maxAbsDiff(out.map, w))));
            QVERIFY2(maxRelDiff(out.o, apply(w, in, in.v)) < 1e-5, qPrintable(QString("%1 output").arg(name)));
        };
        check("softmax", {}, refSoftmax(in), 1e-12);
        check("elu_linear", {}, refLinear(in, elu1), 1e-12);
        check("relu_linear", {}, refLinear(in, [](double x) { return std::max(x, 0.0); }), 1e-12);
        check("window", {"w=37", "dilation=3", "sink_tokens=4"},
              refSoftmax(in, [](int64_t i, int64_t j) { return j < 4 || (i - j < 111 && (i - j) % 3 == 0); }), 1e-12);
        check("power", {"w_local=2", "sinks=1"},
              refSoftmax(in,
                         [](int64_t i, int64_t j) {
                             const int64_t off = i - j;
                             return j < 1 || off < 2 || (off & (off - 1)) == 0;
                         }),
              1e-12);
        {  // oracle top-k: the 20 largest scores of each row, ties to the lower key
            Vec w(size_t(T) * size_t(T), 0.0);
            for (int64_t i = 0; i < T; ++i) {
                std::vector<int64_t> js(size_t(i + 1));
                std::iota(js.begin(), js.end(), 0);
                std::stable_sort(js.begin(), js.end(), [&](int64_t a, int64_t b) {
                    return dot(in.q, i, in.k, a, d) > dot(in.q, i, in.k, b, d);
                });
                js.resize(std::min<size_t>(js.size(), 20));
                double mx = -1e300, z = 0;
                for (int64_t j : js) mx = std::max(mx, in.scale * dot(in.q, i, in.k, j, d));
                for (int64_t j : js) z += std::exp(in.scale * dot(in.q, i, in.k, j, d) - mx);
                for (int64_t j : js) w[size_t(i * T + j)] = std::exp(in.scale * dot(in.q, i, in.k, j, d) - mx) / z;
            }
            check("topk", {"k=20"}, w, 1e-12);
        }
        {  // Sinkhorn, 3 steps (row, column, row) toward the uniform causal column sums
            Vec c(size_t(T), 0.0), w = refSoftmax(in);
            for (int64_t i = 0; i < T; ++i)
                for (int64_t j = 0; j <= i; ++j) c[size_t(j)] += 1.0 / double(i + 1);
            for (int64_t j = 0; j < T; ++j) {
                double col = 0;
                for (int64_t i = j; i < T; ++i) col += w[size_t(i * T + j)];
                for (int64_t i = j; i < T; ++i) w[size_t(i * T + j)] *= c[size_t(j)] / col;
            }
            for (int64_t i = 0; i < T; ++i) {
                double row = 0;
                for (int64_t j = 0; j <= i; ++j) row += w[size_t(i * T + j)];
                for (int64_t j = 0; j <= i; ++j) w[size_t(i * T + j)] /= row;
            }
            check("sinkhorn", {"n_it=3"}, w, 1e-10);
        }
        {  // selective: τ_i = τ0 (1 + α log(i+1)) (1 + β tanh(‖q_i‖/median − 1)); values scaled by γ
            const Vec qn = rowNorms(in.q, T, d), vn = rowNorms(in.v, T, d);
            const double mq = median(qn), mv = median(vn);
            const Vec w = refMaskedSoftmax(
                in, [](int64_t, int64_t) { return true; },
                [&](int64_t i, int64_t j) {
                    const double tau =
                        1.3 * (1 + 0.3 * std::log(double(i + 1))) * (1 + 0.5 * std::tanh(qn[size_t(i)] / mq - 1));
                    return tau * in.scale * dot(in.q, i, in.k, j, d);
                });
            Vec v = in.v;
            for (int64_t j = 0; j < T; ++j)
                for (int c = 0; c < d; ++c) v[size_t(j * d + c)] *= 1 + 0.2 * std::tanh(vn[size_t(j)] / mv - 1);
            const VariantHeadOutput out = run("selective", in, {"tau0=1.3", "alpha=0.3", "beta=0.5", "gamma=0.2"});
            QVERIFY(maxAbsDiff(out.map, w) < 1e-12);
            QVERIFY(maxRelDiff(out.o, apply(w, in, v)) < 1e-9);
        }
        {  // affine, norm mode: a_i = 2σ(κ(‖q_i‖/median − 1)), b = β0 → W = a P + b/n
            const Vec qn = rowNorms(in.q, T, d), P = refSoftmax(in);
            Vec w(P.size(), 0.0);
            for (int64_t i = 0; i < T; ++i) {
                const double a = 2 / (1 + std::exp(-2.0 * (qn[size_t(i)] / median(qn) - 1)));
                for (int64_t j = 0; j <= i; ++j) w[size_t(i * T + j)] = a * P[size_t(i * T + j)] + 0.1 / double(i + 1);
            }
            check("affine_scaled", {"mode=norm", "kappa=2", "beta0=0.1"}, w, 1e-12);
        }
        {  // MALA (causal): e = a φ(q)·φ(k), W = (1/n + 1/Σe) e − mean(e)/n
            Vec w(size_t(T) * size_t(T), 0.0), fq = in.q, fk = in.k;
            for (double& x : fq) x = elu1(x);
            for (double& x : fk) x = elu1(x);
            for (int64_t i = 0; i < T; ++i) {
                double sum = 0;
                const double n = double(i + 1);
                for (int64_t j = 0; j <= i; ++j) sum += in.scale * dot(fq, i, fk, j, d);
                for (int64_t j = 0; j <= i; ++j)
                    w[size_t(i * T + j)] = (1 / n + 1 / (sum + 1e-6)) * in.scale * dot(fq, i, fk, j, d) - sum / n / n;
            }
            check("mala", {"rope_mode=post"}, w, 1e-12);
        }
        {  // NaLaFormer: ψ(x̂)^p with p(q) = 1 + λ‖q‖/mean‖q‖, p_k = 1 + λ
            auto feats = [&](const Vec& x, const Vec& power) {
                Vec f(size_t(T) * size_t(2 * d));
                for (int64_t i = 0; i < T; ++i) {
                    const double nrm = std::sqrt(dot(x, i, x, i, d));
                    for (int c = 0; c < d; ++c) {
                        const double a = (1 + x[size_t(i * d + c)] / nrm) * M_PI / 4;
                        f[size_t(i * 2 * d + c)] = std::pow(std::max(0.0, std::cos(a)), power[size_t(i)]);
                        f[size_t(i * 2 * d + d + c)] = std::pow(std::max(0.0, std::sin(a)), power[size_t(i)]);
                    }
                }
                return f;
            };
            const Vec qn = rowNorms(in.q, T, d);
            const double mean = std::accumulate(qn.begin(), qn.end(), 0.0) / double(T);
            Vec pq(static_cast<size_t>(T)), pk(static_cast<size_t>(T), 1.7);
            for (int64_t i = 0; i < T; ++i) pq[size_t(i)] = 1 + 0.7 * qn[size_t(i)] / mean;
            const Vec fq = feats(in.q, pq), fk = feats(in.k, pk);
            Vec w(size_t(T) * size_t(T), 0.0);
            for (int64_t i = 0; i < T; ++i) {
                double den = 0;
                for (int64_t j = 0; j <= i; ++j) den += dot(fq, i, fk, j, 2 * d);
                for (int64_t j = 0; j <= i; ++j) w[size_t(i * T + j)] = dot(fq, i, fk, j, 2 * d) / den;
            }
            check("nalaformer", {"lambda=0.7"}, w, 1e-10);
        }
        {  // Agent Attention (causal): a_m = mean of q over block m, α_m = softmax_{j ≤ e_m}(s a_m·k_j);
           // query i: one softmax over the agents m < ⌊i/b⌋ and the keys of its own block
            const int64_t b = 37, M = T / b;
            Vec A(size_t(M) * size_t(d), 0.0), alpha(size_t(M) * size_t(T), 0.0);
            for (int64_t m = 0; m < M; ++m) {
                for (int64_t t = m * b; t < (m + 1) * b; ++t)
                    for (int c = 0; c < d; ++c) A[size_t(m * d + c)] += in.q[size_t(t * d + c)] / double(b);
                const int64_t last = (m + 1) * b - 1;
                double mx = -1e300, z = 0;
                for (int64_t j = 0; j <= last; ++j) mx = std::max(mx, in.scale * dot(A, m, in.k, j, d));
                for (int64_t j = 0; j <= last; ++j) z += std::exp(in.scale * dot(A, m, in.k, j, d) - mx);
                for (int64_t j = 0; j <= last; ++j)
                    alpha[size_t(m * T + j)] = std::exp(in.scale * dot(A, m, in.k, j, d) - mx) / z;
            }
            Vec w(size_t(T) * size_t(T), 0.0);
            for (int64_t i = 0; i < T; ++i) {
                const int64_t agents = i / b, from = agents * b;
                double mx = -1e300, z = 0;
                for (int64_t m = 0; m < agents; ++m) mx = std::max(mx, in.scale * dot(in.q, i, A, m, d));
                for (int64_t j = from; j <= i; ++j) mx = std::max(mx, in.scale * dot(in.q, i, in.k, j, d));
                for (int64_t m = 0; m < agents; ++m) z += std::exp(in.scale * dot(in.q, i, A, m, d) - mx);
                for (int64_t j = from; j <= i; ++j) z += std::exp(in.scale * dot(in.q, i, in.k, j, d) - mx);
                for (int64_t m = 0; m < agents; ++m) {
                    const double pi = std::exp(in.scale * dot(in.q, i, A, m, d) - mx) / z;
                    for (int64_t j = 0; j < T; ++j) w[size_t(i * T + j)] += pi * alpha[size_t(m * T + j)];
                }
                for (int64_t j = from; j <= i; ++j)
                    w[size_t(i * T + j)] += std::exp(in.scale * dot(in.q, i, in.k, j, d) - mx) / z;
            }
            check("agent", {"b=37"}, w, 1e-12);
        }
        {  // RALA (causal): α_ij = n_i softmax_j(s q̄_i·φ(k_j)), W_ij ∝ φ(q_i)·φ(k_j) α_ij / n_i (+ ε)
            Vec fq = in.q, fk = in.k, qbar(size_t(T) * size_t(d), 0.0), w(size_t(T) * size_t(T), 0.0);
            for (double& x : fq) x = elu1(x);
            for (double& x : fk) x = elu1(x);
            Vec run(size_t(d), 0.0);
            for (int64_t i = 0; i < T; ++i)
                for (int c = 0; c < d; ++c)
                    run[size_t(c)] += fq[size_t(i * d + c)], qbar[size_t(i * d + c)] = run[size_t(c)] / double(i + 1);
            for (int64_t i = 0; i < T; ++i) {
                const double n = double(i + 1);
                double mx = -1e300, z = 0, sum = 0;
                for (int64_t j = 0; j <= i; ++j) mx = std::max(mx, in.scale * dot(qbar, i, fk, j, d));
                for (int64_t j = 0; j <= i; ++j) z += std::exp(in.scale * dot(qbar, i, fk, j, d) - mx);
                Vec e(size_t(i + 1));
                for (int64_t j = 0; j <= i; ++j) {
                    const double a = n * std::exp(in.scale * dot(qbar, i, fk, j, d) - mx) / z;
                    e[size_t(j)] = dot(fq, i, fk, j, d) * a / n;
                    sum += e[size_t(j)];
                }
                for (int64_t j = 0; j <= i; ++j) w[size_t(i * T + j)] = e[size_t(j)] / (sum + 1e-6);
            }
            check("rala", {}, w, 1e-12);
        }
        {  // PSA: blocks of 16; key blocks before the query's ranked by s·mean(q_I)·mean(k_J): the first
           // ⌊0.2·N + ½⌋ exact, up to ⌊0.5·N + ½⌋ pooled by 2, up to ⌊0.7·N + ½⌋ by 4, the rest skipped
            const int64_t B = 16, nb = (T + B - 1) / B;
            auto blockMean = [&](const Vec& x, int64_t from, int64_t to) {
                Vec m(size_t(d), 0.0);
                for (int64_t t = from; t < to; ++t)
                    for (int c = 0; c < d; ++c) m[size_t(c)] += x[size_t(t * d + c)] / double(to - from);
                return m;
            };
            std::vector<Vec> qm, km;
            for (int64_t b = 0; b < nb; ++b)
                qm.push_back(blockMean(in.q, b * B, std::min<int64_t>(T, (b + 1) * B))),
                    km.push_back(blockMean(in.k, b * B, std::min<int64_t>(T, (b + 1) * B)));
            Vec w(size_t(T) * size_t(T), 0.0);
            for (int64_t i = 0; i < T; ++i) {
                const int64_t I = i / B;
                std::vector<int64_t> order(static_cast<size_t>(I)), level(size_t(I + 1), -1);
                std::iota(order.begin(), order.end(), 0);
                std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
                    return dot(qm[size_t(I)], 0, km[size_t(a)], 0, d) > dot(qm[size_t(I)], 0, km[size_t(b)], 0, d);
                });
                const double cum[] = {0.2, 0.5, 0.7};
                int64_t from = 0;
                for (int l = 0; l < 3; ++l) {
                    const int64_t to = std::min<int64_t>(I, int64_t(std::floor(cum[l] * double(I) + 0.5)));
                    for (int64_t n = from; n < to; ++n) level[size_t(order[size_t(n)])] = l;
                    from = std::max(from, to);
                }
                level[size_t(I)] = 0;
                // (logit, first key, keys): exact keys and pooled groups (+ log r)
                std::vector<std::tuple<double, int64_t, int64_t>> items;
                for (int64_t J = 0; J <= I; ++J) {
                    if (level[size_t(J)] < 0) continue;
                    const int64_t r = int64_t(1) << level[size_t(J)];
                    for (int64_t g = J * B; g < std::min<int64_t>((J + 1) * B, i + 1); g += r) {
                        const Vec kb = blockMean(in.k, g, g + r);
                        items.emplace_back(in.scale * dot(in.q, i, kb, 0, d) + std::log(double(r)), g, r);
                    }
                }
                double mx = -1e300, z = 0;
                for (const auto& [logit, g, r] : items) mx = std::max(mx, logit);
                for (const auto& [logit, g, r] : items) z += std::exp(logit - mx);
                for (const auto& [logit, g, r] : items)
                    for (int64_t j = g; j < g + r; ++j) w[size_t(i * T + j)] += std::exp(logit - mx) / z / double(r);
            }
            check("psa", {"B=16", "L=2", "rho0=0.2", "rho1=0.3", "rho2=0.2"}, w, 1e-12);
        }
        for (const char* mode : {"global", "prefix"}) {  // BinaryAttention: σ_Qσ_K sign(q)·sign(k)
            Vec sq(static_cast<size_t>(T)), sk(static_cast<size_t>(T));
            double aq = 0, ak = 0;
            for (int64_t i = 0; i < T; ++i) {
                for (int c = 0; c < d; ++c)
                    aq += std::abs(in.q[size_t(i * d + c)]), ak += std::abs(in.k[size_t(i * d + c)]);
                sq[size_t(i)] = aq / double((i + 1) * d);
                sk[size_t(i)] = ak / double((i + 1) * d);
            }
            const bool prefix = std::string(mode) == "prefix";
            const Vec w = refMaskedSoftmax(
                in, [](int64_t, int64_t) { return true; },
                [&](int64_t i, int64_t j) {
                    double h = 0;
                    for (int c = 0; c < d; ++c) h += (in.q[size_t(i * d + c)] >= 0) != (in.k[size_t(j * d + c)] >= 0);
                    const double sigma = prefix ? sq[size_t(i)] * sk[size_t(i)] : sq[size_t(T - 1)] * sk[size_t(T - 1)];
                    return in.scale * sigma * (d - 2 * h);  // the Hamming identity
                });
            check("binary", {std::string("scale_mode=") + mode}, w, 1e-12);
        }
    }

    // Every variant computed in blocks of 41 query rows (41 divides neither T nor the linear
    // variants' chunks) gives the map, output, entropies and curve of the one-block computation:
    // the state shared by the blocks (k-means centroids, Sinkhorn scalings, LSH order, Hedgehog's
    // fit, BinaryAttention's scale) is the whole prompt's.
    void blocksChangeNothing() {
        const int64_t T = 300;
        const VariantHeadInput in = randomInput(T, 16, 9, 0.2);
        struct Blocks {
            int64_t was = variantBlockElements();
            ~Blocks() { variantBlockElements() = was; }
        } restore;
        for (const VariantInfo& info : variantInfos()) {
            std::vector<std::string> params;
            if (info.name == "hyper") params = {"min_seq_len=0", "b=16", "m=8"};  // the sampled path
            if (info.name == "hedgehog") params = {"steps=15", "fit_max_tokens=200"};
            if (info.name == "binary") params = {"scale_mode=prefix"};
            if (info.name == "sinkhorn") params = {"n_it=4", "targets=mass_of_softmax"};
            variantBlockElements() = restore.was;
            const VariantHeadOutput whole = run(info.name, in, params);
            variantBlockElements() = 41 * T;
            const VariantHeadOutput blocks = run(info.name, in, params);
            const QString name = QString::fromStdString(info.name);
            QVERIFY2(maxAbsDiff(blocks.map, whole.map) < 1e-12, qPrintable(name + " map"));
            QVERIFY2(maxRelDiff(blocks.o, whole.o) < 1e-12, qPrintable(name + " output"));
            QVERIFY2(maxAbsDiff(blocks.rowEntropy, whole.rowEntropy) < 1e-12, qPrintable(name + " entropy"));
            QVERIFY2(maxRelDiff(blocks.rowCurve, whole.rowCurve) < 1e-12 || whole.rowCurve.empty(),
                     qPrintable(name + " curve"));
            QCOMPARE(blocks.rowCurve.size(), whole.rowCurve.size());
            QCOMPARE(blocks.note, whole.note);
        }
    }

    void maskIdentities() {
        const VariantHeadInput in = randomInput(300, 16, 3);
        const VariantHeadOutput soft = run("softmax", in);
        for (const auto& [name, params] :
             std::vector<std::pair<std::string, std::vector<std::string>>>{{"window", {"w=20"}},
                                                                           {"topk", {"k=20"}},
                                                                           {"routing", {}},
                                                                           {"sea", {"k=20"}},
                                                                           {"power", {}},
                                                                           {"dilated", {"w=10"}}}) {
            const VariantHeadOutput out = run(name, in, params);
            const VariantHeadMetrics m = compareVariant(soft, out, in.T, in.dv);
            QVERIFY2(std::abs(m.rowTvMean - (1 - m.keptMass)) < 1e-12, name.c_str());  // TV = dropped mass
            QVERIFY2(m.keptMass < 1 && m.negMass == 0 && m.zeroRows == 0, name.c_str());
            QVERIFY(std::abs(m.rowKlMean) < 50);
        }
        // Oracle top-k drops the least mass of any mask of k keys: a window of the same size.
        const Vec top = run("topk", in, {"k=20"}).map, win = run("window", in, {"w=20"}).map;
        for (int64_t i = 0; i < in.T; ++i) {
            double mt = 0, mw = 0;
            for (int64_t j = 0; j <= i; ++j) {
                if (top[size_t(i * in.T + j)] > 0) mt += soft.map[size_t(i * in.T + j)];
                if (win[size_t(i * in.T + j)] > 0) mw += soft.map[size_t(i * in.T + j)];
            }
            QVERIFY(mt >= mw - 1e-12);
        }
        // Deterministic seeds: the same map twice; another seed another map.
        QCOMPARE(run("routing", in, {"seed=5"}).map, run("routing", in, {"seed=5"}).map);
        QCOMPARE(run("hyper", in, {"min_seq_len=0", "m=8", "b=16"}).map,
                 run("hyper", in, {"min_seq_len=0", "m=8", "b=16"}).map);
        QVERIFY(run("hyper", in, {"min_seq_len=0", "m=8", "b=16"}).map !=
                run("hyper", in, {"min_seq_len=0", "m=8", "b=16", "seed=1"}).map);
        // Softmax against itself: nothing lost.
        const VariantHeadMetrics self = compareVariant(soft, soft, in.T, in.dv);
        QCOMPARE(self.outputRelErr, 0.0);
        QCOMPARE(self.entropyGap, 0.0);
        QVERIFY(self.rowKlMean < 1e-12 && self.rowTvMean < 1e-12 && std::abs(self.keptMass - 1) < 1e-12);
        QVERIFY(self.effectiveRank > 1 && self.stableRank >= 1 && self.effectiveRank <= double(in.T));
        // PSA's log r correction: with every key of a block the same, a block seen through keys
        // pooled by 2 or 4 carries exactly the mass (and map) of its exact keys.
        VariantHeadInput flat = in;
        for (int64_t j = 0; j < in.T; ++j)
            for (int c = 0; c < in.d; ++c) flat.k[size_t(j * in.d + c)] = in.k[size_t((j / 16 * 16) * in.d + c)];
        const VariantHeadOutput exact = run("psa", flat, {"B=16", "L=2", "rho0=1"});
        QVERIFY(maxAbsDiff(exact.map, refSoftmax(flat)) < 1e-12);
        for (const std::vector<std::string>& pooled : {std::vector<std::string>{"B=16", "L=1", "rho0=0", "rho1=1"},
                                                       {"B=16", "L=2", "rho0=0", "rho1=0.5", "rho2=0.5"}}) {
            const VariantHeadOutput p = run("psa", flat, pooled);
            QVERIFY(maxAbsDiff(p.map, exact.map) < 1e-12);
            QVERIFY(maxRelDiff(p.o, exact.o) < 1e-12);
        }
        // ... and dropping blocks loses mass: TV = dropped mass holds for PSA too.
        const VariantHeadMetrics skipped =
            compareVariant(soft, run("psa", in, {"B=16", "rho0=0.3", "rho1=0", "rho2=0", "rho3=0"}), in.T, in.dv);
        QVERIFY(skipped.keptMass < 1);
        QVERIFY(std::abs(skipped.rowTvMean - (1 - skipped.keptMass)) < 1e-12);
    }

    void normalisationIdentities() {
        VariantHeadInput in = randomInput(200, 16, 4);
        // MALA: unit rows, negative weights allowed; equal e in a row → uniform.
        const VariantHeadOutput mala = run("mala", in);
        for (int64_t i = 0; i < in.T; ++i) {
            double s = 0;
            for (int64_t j = 0; j <= i; ++j) s += mala.map[size_t(i * in.T + j)];
            QVERIFY(std::abs(s - 1) < 1e-5);
        }
        VariantHeadInput flat = in;
        for (double& x : flat.k) x = 0.25;  // every key equal: e_ij = c per row
        const VariantHeadOutput u = run("mala", flat, {"eps=0"});
        for (int64_t i = 0; i < in.T; i += 17) QVERIFY(std::abs(u.map[size_t(i * in.T)] - 1.0 / double(i + 1)) < 1e-12);
        // Sinkhorn: uniform logits (q = 0) are a fixed point under causal_uniform.
        VariantHeadInput zero = in;
        std::fill(zero.q.begin(), zero.q.end(), 0.0);
        const Vec sk = run("sinkhorn", zero, {"n_it=5"}).map;
        for (int64_t i = 0; i < in.T; i += 13)
            for (int64_t j = 0; j <= i; j += 7)
                QVERIFY(std::abs(sk[size_t(i * in.T + j)] - 1.0 / double(i + 1)) < 1e-12);
        // Affine a = 0, b = 1: the causal mean of v.
        const VariantHeadOutput mean = run("affine_scaled", in, {"a=0", "b=1"});
        for (int64_t i = 0; i < in.T; i += 11)
            QVERIFY(std::abs(mean.map[size_t(i * in.T)] - 1.0 / double(i + 1)) < 1e-15);
        // Selective: entropy does not rise with τ; τ0 → ∞ is the argmax.
        const Vec h1 = run("selective", in).rowEntropy, h2 = run("selective", in, {"tau0=2"}).rowEntropy;
        for (size_t i = 0; i < h1.size(); ++i) QVERIFY(h2[i] <= h1[i] + 1e-12);
        const Vec hard = run("selective", in, {"tau0=1e5"}).map;
        for (int64_t i = 1; i < in.T; i += 9) {
            int64_t best = 0;
            for (int64_t j = 0; j <= i; ++j)
                if (dot(in.q, i, in.k, j, in.d) > dot(in.q, i, in.k, best, in.d)) best = j;
            QVERIFY(hard[size_t(i * in.T + best)] > 1 - 1e-9);
        }
        // NaLaFormer with λ = 0 is norm-blind: scaling a query leaves its row unchanged.
        VariantHeadInput scaled = in;
        for (int c = 0; c < in.d; ++c) scaled.q[size_t(50 * in.d + c)] *= 3;
        const Vec a = run("nalaformer", in, {"lambda=0"}).map, b = run("nalaformer", scaled, {"lambda=0"}).map;
        QVERIFY(maxAbsDiff(a, b) < 1e-12);
        // ... and with λ > 0 a larger query norm does not raise its row's entropy.
        const Vec ha = run("nalaformer", in).rowEntropy, hb = run("nalaformer", scaled).rowEntropy;
        QVERIFY(hb[50] <= ha[50] + 1e-12);
    }

    void linearIdentities() {
        VariantHeadInput in = randomInput(1100, 16, 5);
        // ReLU features of non-negative inputs are the identity map: W_ij = q_i·k_j / Σ_l q_i·k_l.
        VariantHeadInput pos = in;
        for (Vec* x : {&pos.q, &pos.k})
            for (double& e : *x) e = std::abs(e);
        const VariantHeadOutput id = run("relu_linear", pos);
        for (int64_t i = 0; i < pos.T; i += 97) {
            double den = 0;
            for (int64_t j = 0; j <= i; ++j) den += dot(pos.q, i, pos.k, j, pos.d);
            QVERIFY(std::abs(id.map[size_t(i * pos.T + 3 * i / 4)] - dot(pos.q, i, pos.k, 3 * i / 4, pos.d) / den) <
                    1e-14);
        }
        // Causality of the chunked prefix sums: later keys and values never reach earlier rows.
        const VariantHeadOutput before = run("elu_linear", in);
        VariantHeadInput later = in;
        for (int64_t j = 700; j < in.T; ++j)
            for (int c = 0; c < in.d; ++c) later.k[size_t(j * in.d + c)] += 5, later.v[size_t(j * in.d + c)] *= -3;
        const VariantHeadOutput after = run("elu_linear", later);
        QVERIFY(std::equal(before.o.begin(), before.o.begin() + 700 * in.dv, after.o.begin()));
        // All keys equal: o_i is the running mean of v (exactly with no ε in the denominator).
        VariantHeadInput same = in;
        for (int64_t j = 0; j < in.T; ++j)
            for (int c = 0; c < in.d; ++c) same.k[size_t(j * in.d + c)] = in.k[size_t(c)];
        const VariantHeadOutput m = run("elu_linear", same, {"eps=0"});
        for (int64_t i = 0; i < in.T; i += 111) {
            double mean = 0;
            for (int64_t j = 0; j <= i; ++j) mean += in.v[size_t(j * in.d)];
            QVERIFY(std::abs(m.o[size_t(i * in.dv)] - mean / double(i + 1)) < 1e-9);
        }
        // RALA with α ≡ 1 is elu+1 linear attention (up to the normaliser's ε).
        QVERIFY(maxAbsDiff(run("rala", in, {"alpha_mode=uniform"}).map, run("elu_linear", in).map) < 1e-6);
        // Hedgehog: the fit never ends above where it starts (cross-entropy to softmax).
        const VariantHeadInput small = randomInput(160, 8, 6);
        const Vec P = refSoftmax(small);
        auto ce = [&](const Vec& w) {
            double s = 0;
            for (int64_t i = 0; i < 120; ++i)
                for (int64_t j = 0; j <= i; ++j)
                    s -= P[size_t(i * small.T + j)] * std::log(w[size_t(i * small.T + j)] + 1e-12);
            return s / 120;
        };
        const VariantHeadOutput h0 = run("hedgehog", small, {"steps=0"}), h1 = run("hedgehog", small, {"steps=40"});
        QVERIFY2(ce(h1.map) < ce(h0.map), qPrintable(QString::fromStdString(h1.note)));
        QVERIFY(h1.note.find("held-out") != std::string::npos);
    }

    void badInput() {
        VariantHeadInput in = randomInput(10, 4, 8);
        in.k.pop_back();
        QVERIFY_THROWS_EXCEPTION(Error, run("softmax", in));
        in = randomInput(10, 4, 8);
        in.scale = 0;
        QVERIFY_THROWS_EXCEPTION(Error, run("softmax", in));
    }
};

QTEST_GUILESS_MAIN(TstVariants)
#include "tst_variants.moc"
