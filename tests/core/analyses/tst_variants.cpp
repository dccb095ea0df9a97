// Attention-variants lab (core/src/analyses/variants; shared/reference/attention-variants-and-
// heads.md A–D): the registry and its parameters, and the reference's identities: the softmax
// entry reproduces the trace's own attention, the degenerate settings reduce to softmax, TV =
// dropped mass for every mask, oracle top-k drops the least mass, Sinkhorn's fixed points, MALA's
// unit rows, BinaryAttention's Hamming identity, PSA's log r correction, RALA with α = 1, and
// causality of the prefix-sum linear attention. The direct O(T²) references are in
// tst_variant_references.cpp.
#include <QtTest>

#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <tuple>

#include "attnscope/analyses/variants.h"
#include "attnscope/error.h"
#include "attnscope/model.h"

using namespace attnscope;

#include "variant_reference.h"

using namespace attnscope::varref;

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
