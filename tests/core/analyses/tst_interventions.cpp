// Interventions (attnscope/analyses/interventions.h, reference §F): ablations against Hugging
// Face transformers with forward hooks on the fixture models (tests/gen/
// make_intervention_goldens.py); the identities of the reference: ablating nothing, or with the
// component's own values (scale 1), reproduces the run bit for bit; a hidden key receives no
// attention from later queries; patching a prompt into itself changes nothing and patching the
// whole last-layer residual at the last position recovers everything; the lens of the last layer
// is the model's output.
#include <QtTest>

#include <QFileInfo>
#include <cmath>

#include "attnscope/analyses/interventions.h"
#include "attnscope/error.h"
#include "attnscope/model.h"
#include "attnscope/trace.h"
#include "fixture_ref.h"
#include "head_scores_reference.h"
#include "test_models.h"
#include "test_paths.h"

using namespace attnscope;

namespace {

// KL(softmax(a_t) ‖ softmax(b_t)) of row t of two [T, V] logit arrays.
double klRow(const std::vector<float>& a, const std::vector<float>& b, int64_t t, int64_t V) {
    double ma = -1e300, mb = -1e300;
    for (int64_t v = 0; v < V; ++v)
        ma = std::max(ma, double(a[size_t(t * V + v)])), mb = std::max(mb, double(b[size_t(t * V + v)]));
    double za = 0, zb = 0;
    for (int64_t v = 0; v < V; ++v)
        za += std::exp(a[size_t(t * V + v)] - ma), zb += std::exp(b[size_t(t * V + v)] - mb);
    double kl = 0;
    for (int64_t v = 0; v < V; ++v) {
        const double la = a[size_t(t * V + v)] - ma - std::log(za), lb = b[size_t(t * V + v)] - mb - std::log(zb);
        kl += std::exp(la) * (la - lb);
    }
    return kl;
}

std::vector<int32_t> prompt(int n) { return headref::ids(n); }

}  // namespace

class TestInterventions : public QObject {
    Q_OBJECT
private slots:
    void matchesTransformersHooks_data() {
        QTest::addColumn<QString>("family");
        for (const char* f : {"llama2", "llama3", "mistral", "qwen2", "qwen3", "gpt2", "gpt_neox", "gpt_neox_seq"})
            QTest::newRow(f) << QString::fromLatin1(f);
    }
    // Each ablation's next-token KL at every position, and the logit change of each position's
    // top-1 token, against the same ablation done with forward hooks in transformers.
    void matchesTransformersHooks() {
        QFETCH(QString, family);
        const QString dir = testpaths::data("models/" + family);
        if (!QFileInfo::exists(dir + "/interventions.safetensors"))
            QSKIP("no interventions.safetensors: run tests/gen/make_intervention_goldens.py on the GPU machine");
        auto ref = io::SafetensorsFile::open((dir + "/ref.safetensors").toStdString());
        auto gold = io::SafetensorsFile::open((dir + "/interventions.safetensors").toStdString());
        const std::vector<int32_t> ids = fixture::ids(*ref);
        const fixture::Array clean = fixture::floats(*gold, "clean");
        const int64_t T = int64_t(ids.size()), V = clean.shape[1];
        auto model = testmodels::openPath(dir.toStdString());
        struct Case {
            const char* name;
            AblationParams p;
        };
        std::vector<Case> cases(4);
        cases[0] = {"head_zero", {}};
        cases[0].p.what = "head", cases[0].p.layer = 1, cases[0].p.heads = {2}, cases[0].p.mode = "zero";
        cases[1] = {"head_mean", {}};
        cases[1].p.what = "head", cases[1].p.layer = 0, cases[1].p.heads = {1}, cases[1].p.mode = "mean";
        cases[2] = {"mlp_zero", {}};
        cases[2].p.what = "mlp", cases[2].p.layer = 0, cases[2].p.tokens = {3, 7}, cases[2].p.mode = "zero";
        cases[3] = {"attn_mean", {}};
        cases[3].p.what = "attn", cases[3].p.layer = 1, cases[3].p.tokens = {5}, cases[3].p.mode = "mean";
        for (const Case& c : cases) {
            const fixture::Array want = fixture::floats(*gold, c.name);
            QCOMPARE(int64_t(want.data.size()), T * V);
            const InterventionResult r = runIntervention(*model, ids, c.p);
            for (int64_t t = 0; t < T; ++t) {
                const double kl = klRow(clean.data, want.data, t, V);
                QVERIFY2(
                    std::abs(r.kl[size_t(t)] - kl) <= 1e-4 + 1e-3 * kl,
                    qPrintable(QString("%1 position %2: KL %3 vs %4").arg(c.name).arg(t).arg(r.kl[size_t(t)]).arg(kl)));
                const int32_t top = r.top1[size_t(t)];
                const double d = double(want.data[size_t(t * V + top)]) - double(clean.data[size_t(t * V + top)]);
                QVERIFY2(std::abs(r.logitDelta[size_t(t)] - d) <= 1e-4,
                         qPrintable(QString("%1 position %2: logit change %3 vs %4")
                                        .arg(c.name)
                                        .arg(t)
                                        .arg(r.logitDelta[size_t(t)])
                                        .arg(d)));
            }
        }
    }

    // Nothing ablated, and every component scaled by 1 (its own values), reproduce the run
    // bit for bit: KL, logit changes and sink scores exactly as without a hook.
    void noChangeIsBitExact() {
        auto model = headref::randomModel(21);
        const std::vector<int32_t> ids = prompt(40);
        AblationParams none;
        none.what = "none";
        const InterventionResult base = runIntervention(*model, ids, none);
        for (float k : base.kl) QCOMPARE(k, 0.f);
        for (const char* what : {"head", "attn", "mlp"}) {
            AblationParams p;
            p.what = what;
            p.layer = 1;
            p.mode = "scale";
            p.scale = 1.0;
            const InterventionResult r = runIntervention(*model, ids, p);
            for (int64_t t = 0; t < r.T; ++t) {
                QCOMPARE(r.kl[size_t(t)], 0.f);
                QCOMPARE(r.logitDelta[size_t(t)], 0.f);
            }
            QCOMPARE(r.scoreAfter, r.scoreBefore);
            QCOMPARE(r.top1Agreement, 1.0);
        }
        // A real ablation changes the output, and only from its layer's positions on: the MLP
        // output of token 20 zeroed changes nothing before token 20.
        AblationParams p;
        p.what = "mlp";
        p.layer = 0;
        p.mode = "zero";
        p.tokens = {20};
        const InterventionResult r = runIntervention(*model, ids, p);
        for (int64_t t = 0; t < 20; ++t) QCOMPARE(r.kl[size_t(t)], 0.f);
        QVERIFY(r.kl[20] > 0);
    }

    // Hidden keys: later queries give them no attention (the causal sink score of a hidden
    // token in the ablated layers is its own row's share only, at most 1/(T − t)); hiding the
    // last token's key changes no other row.
    void hiddenKeys() {
        auto model = headref::randomModel(23);
        const std::vector<int32_t> ids = prompt(48);
        AblationParams p;
        p.what = "kv";
        p.layer = 1;
        p.tokens = {6};
        const InterventionResult r = runIntervention(*model, ids, p);
        size_t row = 0;
        while (row < r.tracked.size() && r.tracked[row] != 6) ++row;
        QVERIFY(row < r.tracked.size());
        QVERIFY(r.scoreAfter[row * size_t(r.nLayers) + 1] <= 1.0 / double(r.T - 6) + 1e-6);
        QCOMPARE(r.scoreAfter[row * size_t(r.nLayers)], r.scoreBefore[row * size_t(r.nLayers)]);  // layer 0 untouched
        for (int64_t t = 0; t < 6; ++t) QVERIFY(r.kl[size_t(t)] < 1e-10);
        p.tokens = {int64_t(ids.size()) - 1};
        const InterventionResult last = runIntervention(*model, ids, p);
        for (float k : last.kl) QVERIFY(k < 1e-8);
        // The sink: BOS's key hidden from every layer.
        AblationParams s;
        s.what = "sink";
        const InterventionResult sink = runIntervention(*model, ids, s);
        QCOMPARE(sink.tracked[0], int64_t(0));
        for (int l = 0; l < sink.nLayers; ++l) QVERIFY(sink.scoreAfter[size_t(l)] <= 1.0 / double(sink.T) + 1e-6);
    }

    // The causal sink test on the built-in model: the scale-1 row reproduces the run exactly,
    // the creation layer's row names the sink's creation layer, and the controls are there.
    void sinkTest() {
        auto model = testmodels::openBuiltin();
        const std::vector<int32_t> ids = model->tokenize(
            "The history of the city begins in the twelfth century, when a small market grew beside the river.", true);
        SinkTestParams p;
        const SinkTestResult r = sinkCausalTest(*model, ids, p);
        QVERIFY(r.token >= 0 && r.creationLayer >= 0);
        QCOMPARE(r.rows[0].label, std::string("creation layer"));
        QCOMPARE(r.rows[0].layer, r.creationLayer);
        bool sawScale1 = false;
        for (const SinkTestRow& row : r.rows) {
            QCOMPARE(int(row.scoreBefore.size()), model->info().nLayers);
            if (row.mode == "scale" && row.scale == 1.0) {
                sawScale1 = true;
                QCOMPARE(row.scoreAfter, row.scoreBefore);
                QCOMPARE(row.meanKl, 0.0);
                QCOMPARE(row.lifetimeAfter, row.lifetimeBefore);
            }
        }
        QVERIFY(sawScale1);
        QVERIFY_THROWS_EXCEPTION(Error, (void)sinkCausalTest(*model, ids, [&] {
                                     SinkTestParams q;
                                     q.token = int64_t(ids.size()) - 1;  // the last token is no sink
                                     return q;
                                 }()));
    }

    // Patching identities (§F.4): a prompt patched into itself changes nothing (and the
    // normalisation is undefined); the whole last-layer residual at the last position recovers
    // the clean logit difference exactly.
    void patchingIdentities() {
        auto model = headref::randomModel(25);
        PatchParams p;
        p.clean = prompt(12);
        p.corrupt = p.clean;
        p.answer = 5;
        p.wrong = 9;
        const PatchResult same = activationPatching(*model, p);
        QVERIFY(same.undefined);
        for (float d : same.delta) QCOMPARE(d, 0.f);
        p.corrupt[3] = 77;
        p.corrupt[8] = 78;
        for (const char* what : {"resid", "mlp", "head"}) {
            p.what = what;
            const PatchResult r = activationPatching(*model, p);
            QVERIFY(!r.undefined);
            const int64_t cols = p.what == "head" ? r.nHeads : r.T;
            QCOMPARE(int64_t(r.normalized.size()), int64_t(r.nLayers) * cols);
            if (p.what == "resid") {
                QVERIFY2(std::abs(r.normalized[size_t((r.nLayers - 1) * cols + r.T - 1)] - 1.f) < 1e-5,
                         qPrintable(QString::number(r.normalized[size_t((r.nLayers - 1) * cols + r.T - 1)])));
                // Positions before the first corrupted token carry the same residual: no effect.
                for (int l = 0; l < r.nLayers; ++l)
                    for (int64_t t = 0; t < 3; ++t) QVERIFY(std::abs(r.delta[size_t(l * cols + t)]) < 1e-5);
            }
        }
        p.corrupt.pop_back();
        QVERIFY_THROWS_EXCEPTION(Error, (void)activationPatching(*model, p));
    }

    // The lens of the last layer is the model's output (§F.5): KL 0, rank 0, same top token;
    // the target's probability there is the model's.
    void logitLensLastLayer() {
        auto model = headref::randomModel(27);
        const std::vector<int32_t> ids = prompt(30);
        LogitLensParams p;
        p.target = 17;
        const LogitLens lens = logitLens(*model, ids, p);
        RunOptions o;
        o.trace.keepLogits = true;
        const Matrix2D logits = model->run(ids, o)->logits();
        const int64_t T = lens.T, L = lens.nLayers, V = logits.cols;
        for (int64_t t = 0; t < T; ++t) {
            const size_t at = size_t((L - 1) * T + t);
            QVERIFY(lens.klToFinal[at] < 1e-9);
            QCOMPARE(lens.finalRank[at], 0);
            int32_t best = 0;
            double mx = -1e300, z = 0;
            for (int64_t v = 0; v < V; ++v) mx = std::max(mx, double(logits.at(t, v)));
            for (int64_t v = 0; v < V; ++v) {
                if (logits.at(t, v) > logits.at(t, best)) best = int32_t(v);
                z += std::exp(logits.at(t, v) - mx);
            }
            QCOMPARE(lens.top[at * size_t(lens.topK)], best);
            QVERIFY(std::abs(lens.targetProb[at] - std::exp(logits.at(t, 17) - mx) / z) < 1e-6);
            // Probabilities of the top-k are sorted.
            for (int k = 1; k < lens.topK; ++k)
                QVERIFY(lens.topProb[at * size_t(lens.topK) + size_t(k)] <=
                        lens.topProb[at * size_t(lens.topK) + size_t(k - 1)]);
        }
    }

    // Every result through its session section and back, bit for bit.
    void sectionsRoundTrip() {
        auto model = headref::randomModel(31);
        const std::vector<int32_t> ids = prompt(20);
        InterventionSection a;
        AblationParams p;
        p.what = "head", p.layer = 1, p.heads = {0, 3}, p.mode = "zero", p.tokens = {2, 5}, p.target = 7;
        a.ablation = runIntervention(*model, ids, p);
        const InterventionSection a2 = decodeIntervention(encodeIntervention(a));
        QCOMPARE(a2.ablation.kl, a.ablation.kl);
        QCOMPARE(a2.ablation.logitDelta, a.ablation.logitDelta);
        QCOMPARE(a2.ablation.scoreAfter, a.ablation.scoreAfter);
        QCOMPARE(a2.ablation.tracked, a.ablation.tracked);
        QCOMPARE(a2.ablation.params.heads, p.heads);
        QCOMPARE(a2.ablation.params.target, 7);
        PatchParams pp;
        pp.clean = prompt(8);
        pp.corrupt = pp.clean;
        pp.corrupt[4] = 99;
        pp.answer = 1, pp.wrong = 2, pp.what = "head";
        const PatchResult r = activationPatching(*model, pp);
        const PatchResult r2 = decodePatch(encodePatch(r));
        QCOMPARE(r2.delta, r.delta);
        QCOMPARE(r2.what, r.what);
        QCOMPARE(r2.ldClean, r.ldClean);
        LogitLensParams lp;
        lp.target = 3;
        const LogitLens l = logitLens(*model, ids, lp);
        const LogitLens l2 = decodeLogitLens(encodeLogitLens(l));
        QCOMPARE(l2.top, l.top);
        QCOMPARE(l2.klToFinal, l.klToFinal);
        QCOMPARE(l2.targetRank, l.targetRank);
        // A section that lies about its shapes is refused.
        SessionSection bad = encodeLogitLens(l);
        bad.params["tokens"] = 21;
        QVERIFY_THROWS_EXCEPTION(Error, (void)decodeLogitLens(bad));
    }

    void badInput() {
        auto model = headref::randomModel(29);
        const std::vector<int32_t> ids = prompt(10);
        AblationParams p;
        p.layer = 9;
        QVERIFY_THROWS_EXCEPTION(Error, (void)runIntervention(*model, ids, p));
        p.layer = 0;
        p.what = "everything";
        QVERIFY_THROWS_EXCEPTION(Error, (void)runIntervention(*model, ids, p));
        p.what = "mlp";
        p.tokens = {10};
        QVERIFY_THROWS_EXCEPTION(Error, (void)runIntervention(*model, ids, p));
        p.tokens = {};
        p.what = "kv";
        QVERIFY_THROWS_EXCEPTION(Error, (void)runIntervention(*model, ids, p));  // kv needs tokens
    }
};

QTEST_GUILESS_MAIN(TestInterventions)
#include "tst_interventions.moc"
