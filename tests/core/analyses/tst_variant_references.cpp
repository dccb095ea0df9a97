// Attention variants against direct O(T²) implementations written here in plain loops
// (shared/reference/attention-variants-and-heads.md A–D): every variant's output and map at
// T = 257 and 1100 (lengths the linear variants' 128-row chunks do not divide), also computed in
// blocks of 97 query rows (how long prompts are computed), and every variant's blocks against
// one block. The reference's identities are in tst_variants.cpp.
#include <QtTest>

#include <cmath>
#include <numeric>
#include <tuple>

#include "analyses/variants/variants_lab.h"
#include "attnscope/analyses/variants.h"
#include "variant_reference.h"

using namespace attnscope;
using namespace attnscope::varref;

class TstVariantReferences : public QObject {
    Q_OBJECT

private slots:
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
};

QTEST_GUILESS_MAIN(TstVariantReferences)
#include "tst_variant_references.moc"
