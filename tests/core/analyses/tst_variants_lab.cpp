// The attention-variants lab through the Inspector (core/src/analyses/variants/variants_lab.cpp):
// the softmax entry substituted into a layer is the model itself (KL 0, same perplexity, same
// greedy continuation), a substituted causal variant stays causal end to end (each position's
// KL does not depend on later tokens), the metrics of one head are those of the lab's head pair,
// parameters spread over the chosen variants by name, the session section round-trips and a
// corrupt one is refused, and bad requests fail with clear errors.
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "attnscope/analyses/variants.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"

using namespace attnscope;

namespace {

std::vector<int32_t> promptIds(size_t n) {
    std::vector<int32_t> ids(n);
    for (size_t i = 0; i < n; ++i) ids[i] = int32_t((i * 37 + 11) % 256);
    return ids;
}

std::unique_ptr<Inspector> inspectorWith(size_t tokens, uint64_t seed = 3) {
    RandomModelSpec spec;
    spec.seed = seed;
    auto inspector = std::make_unique<Inspector>();
    inspector->adopt(Model::random(spec));
    inspector->setPromptIds(promptIds(tokens));
    return inspector;
}

VariantsRequest requestOf(std::vector<VariantChoice> variants, int layer = 1, int head = -1) {
    VariantsRequest r;
    r.layer = layer;
    r.head = head;
    r.variants = std::move(variants);
    return r;
}

}  // namespace

class TestVariantsLab : public QObject {
    Q_OBJECT
private slots:
    void softmaxSubstitutedIsTheModel() {
        auto inspector = inspectorWith(70);
        for (bool allLayers : {false, true}) {
            VariantsRequest r = requestOf({{"softmax", {}}});
            r.substitute = true;
            r.allLayers = allLayers;
            r.continuation = 6;
            const VariantsResult res = inspector->variants(r);
            QCOMPARE(res.tokens, int64_t(70));
            QCOMPARE(res.variants.size(), size_t(1));
            const VariantRun& v = res.variants.front();
            QCOMPARE(v.heads.size(), size_t(4));
            for (const VariantHeadMetrics& m : v.heads) {
                QCOMPARE(m.outputRelErr, 0.0);
                QVERIFY(std::abs(m.entropyGap) < 1e-12 && m.rowKlMean < 1e-12 && m.keptMass > 1 - 1e-12);
            }
            QVERIFY(v.hasEndToEnd);
            const VariantEndToEnd& e = v.endToEnd;
            QCOMPARE(e.kl.size(), size_t(70));
            QVERIFY2(e.klMax < 1e-9, qPrintable(QString::number(e.klMax)));
            QCOMPARE(e.top1, 1.0);
            QCOMPARE(e.heldOutFrom, int64_t(35));
            QVERIFY(e.pplOriginal > 1 && std::abs(e.ppl / e.pplOriginal - 1) < 1e-6);
            QCOMPARE(e.continuation, e.continuationOriginal);  // the lab's full forwards = the cached decoder
            QCOMPARE(e.continuation.size(), size_t(6));
        }
    }

    // A variant that changes the map changes the run, and only causally: each position's KL on a
    // prompt equals the same position's KL on the prompt's prefix.
    void substitutionIsCausal() {
        auto full = inspectorWith(90), prefix = inspectorWith(50);
        for (const char* name : {"elu_linear", "window", "binary"}) {
            const std::string n = name;  // binary with its prefix scale: no scalar from the future
            const VariantParams params = n == "window"   ? VariantParams{{"w", 8}}
                                         : n == "binary" ? VariantParams{{"scale_mode", 1}}
                                                         : VariantParams{};
            VariantsRequest r = requestOf({{n, params}}, 0);
            r.substitute = true;
            const VariantEndToEnd a = full->variants(r).variants.front().endToEnd;
            const VariantEndToEnd b = prefix->variants(r).variants.front().endToEnd;
            QVERIFY2(a.klMean > 1e-12, qPrintable(QString("%1: %2").arg(name).arg(a.klMean)));  // it changes the model
            for (size_t i = 0; i < b.kl.size(); ++i)
                QVERIFY2(std::abs(a.kl[i] - b.kl[i]) <= 1e-9 + 1e-6 * b.kl[i],
                         qPrintable(QString("%1 at %2").arg(name).arg(i)));
            // One head substituted moves the model less than all of them (same variant, same layer).
            VariantsRequest one = r;
            one.head = 2;
            QVERIFY2(full->variants(one).variants.front().endToEnd.klMean < a.klMean, name);
        }
    }

    void headPairMatchesTheTable() {
        auto inspector = inspectorWith(64);
        const VariantChoice topk{"topk", {{"k", 5}}};
        const VariantsResult res = inspector->variants(requestOf({topk}, 1, 3));
        QCOMPARE(res.variants.front().heads.size(), size_t(1));
        const VariantHeadPair p = inspector->variantHead(1, 3, topk);
        QCOMPARE(p.T, int64_t(64));
        QCOMPARE(p.metrics.outputRelErr, res.variants.front().heads.front().outputRelErr);
        QCOMPARE(p.metrics.keptMass, res.variants.front().mean.keptMass);
        // Each row keeps min(i + 1, 5) keys (reference B.7) and sums to one.
        for (int64_t i = 0; i < p.T; ++i) {
            int kept = 0;
            double sum = 0;
            for (int64_t j = 0; j < p.T; ++j) {
                kept += p.variant.map[size_t(i * p.T + j)] != 0;
                sum += p.variant.map[size_t(i * p.T + j)];
            }
            QCOMPARE(kept, int(std::min<int64_t>(i + 1, 5)));
            QVERIFY(std::abs(sum - 1) < 1e-12);
        }
        // The first token's share, from the maps themselves (rows of both sum to one).
        double sink = 0, softSink = 0;
        for (int64_t i = 0; i < p.T; ++i)
            sink += p.variant.map[size_t(i * p.T)], softSink += p.softmax.map[size_t(i * p.T)];
        QVERIFY(std::abs(p.metrics.sinkMass - sink / double(p.T)) < 1e-12);
        QVERIFY(std::abs(p.metrics.softmaxSinkMass - softSink / double(p.T)) < 1e-12);
        QVERIFY_THROWS_EXCEPTION(Error, inspector->variantHead(1, -1, topk));
    }

    // A tile is the whole map's slice (exact) or its blocks' largest-magnitude entries (pooled,
    // cells as adaptive pooling cuts them); the metrics, entropies and outputs do not depend on it.
    void tilesOfTheMap() {
        auto inspector = inspectorWith(200);
        const int64_t T = 200;
        // W = P − 2/n (affine, a = 1, b = −2) has blocks of negative weights.
        for (const VariantChoice& v : {VariantChoice{"sinkhorn", {}}, VariantChoice{"affine_scaled", {{"b", -2}}}}) {
            const VariantHeadPair full = inspector->variantHead(1, 2, v, {0, T, 0, T, int(T), int(T)});
            QVERIFY(!full.tile.pooled);
            QCOMPARE(full.variant.map.size(), size_t(T * T));
            const VariantHeadPair part = inspector->variantHead(1, 2, v, {30, 90, 10, 70});
            QCOMPARE(part.tile.rows, 60);
            QCOMPARE(part.tile.cols, 60);
            QVERIFY(!part.tile.pooled);
            for (int64_t i = 0; i < 60; ++i)
                for (int64_t j = 0; j < 60; ++j) {
                    QCOMPARE(part.variant.map[size_t(i * 60 + j)], full.variant.map[size_t((i + 30) * T + j + 10)]);
                    QCOMPARE(part.softmax.map[size_t(i * 60 + j)], full.softmax.map[size_t((i + 30) * T + j + 10)]);
                }
            const int R = 16, C = 24;
            const VariantHeadPair pooled = inspector->variantHead(1, 2, v, {0, T, 0, T, R, C});
            QVERIFY(pooled.tile.pooled);
            bool negative = false;
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) {
                    double pos = 0, neg = 0;
                    for (int64_t i = r * T / R; i < ((r + 1) * T + R - 1) / R; ++i)
                        for (int64_t j = c * T / C; j < ((c + 1) * T + C - 1) / C; ++j) {
                            const double w = full.variant.map[size_t(i * T + j)];
                            pos = std::max(pos, w), neg = std::max(neg, -w);
                        }
                    negative |= neg > pos;
                    QCOMPARE(pooled.variant.map[size_t(r * C + c)], pos >= neg ? pos : -neg);
                }
            QCOMPARE(negative, v.name == "affine_scaled");  // negative weights survive pooling
            for (const VariantHeadPair* p : {&part, &pooled}) {
                QCOMPARE(p->metrics.outputRelErr, full.metrics.outputRelErr);
                QCOMPARE(p->metrics.rowKlMean, full.metrics.rowKlMean);
                QCOMPARE(p->variant.rowEntropy, full.variant.rowEntropy);
                QCOMPARE(p->variant.o, full.variant.o);
            }
        }
        QVERIFY_THROWS_EXCEPTION(Error, inspector->variantHead(1, 2, {"window", {}}, {0, T + 1, 0, T}));
        QVERIFY_THROWS_EXCEPTION(Error, inspector->variantHead(1, 2, {"window", {}}, {50, 50, 0, T}));
        QVERIFY_THROWS_EXCEPTION(Error, inspector->variantHead(1, 2, {"window", {}}, {0, T, 0, T, 0, 8}));
    }

    // A prompt longer than the whole-map limit: computed block by block. Exact tiles agree with
    // the window's definition written here, TV equals the dropped mass (reference B, a mask's
    // identity) over every row, and the ranks (which need the whole map) are left out.
    void longPromptInBlocks() {
        RandomModelSpec spec;
        spec.contextLength = 6000;
        spec.seed = 5;
        Inspector inspector;
        inspector.adopt(Model::random(spec));
        const int64_t T = 5000;
        inspector.setPromptIds(promptIds(size_t(T)));
        const VariantChoice window{"window", {{"w", 64}}};
        const VariantsResult r = inspector.variants(requestOf({window}, 1, 3));
        const VariantHeadMetrics& m = r.variants.front().heads.front();
        QCOMPARE(m.effectiveRank, 0.0);  // T > kVariantRankTokens
        QCOMPARE(m.softmaxEffectiveRank, 0.0);
        QVERIFY(m.keptMass > 0 && m.keptMass < 1);
        QVERIFY(std::abs(m.rowTvMean - (1 - m.keptMass)) < 1e-9);
        const VariantHeadPair whole = inspector.variantHead(1, 3, window);
        QVERIFY(whole.tile.pooled);
        QCOMPARE(whole.tile.rows, kVariantTileCells);
        QCOMPARE(whole.variant.rowEntropy.size(), size_t(T));
        QCOMPARE(whole.metrics.keptMass, m.keptMass);
        const int64_t q0 = T - 10, k0 = T - 100;
        const VariantHeadPair tile = inspector.variantHead(1, 3, window, {q0, T, k0, T});
        const VariantHeadInput in = variantHeadInput(inspector.model(), inspector.trace(), 1, 3);
        for (int64_t i = q0; i < T; ++i) {
            std::vector<double> s;
            for (int64_t j = i - 63; j <= i; ++j) {
                double dot = 0;
                for (int c = 0; c < in.d; ++c) dot += in.q[size_t(i * in.d + c)] * in.k[size_t(j * in.d + c)];
                s.push_back(in.scale * dot);
            }
            const double mx = *std::max_element(s.begin(), s.end());
            double z = 0;
            for (double x : s) z += std::exp(x - mx);
            for (int64_t j = k0; j < T; ++j) {
                const double want = j > i || j < i - 63 ? 0.0 : std::exp(s[size_t(j - (i - 63))] - mx) / z;
                QVERIFY(std::abs(tile.variant.map[size_t((i - q0) * 100 + j - k0)] - want) < 1e-12);
            }
        }
    }

    void parametersSpreadByName() {
        std::vector<VariantChoice> c = {{"topk", {}}, {"sea", {}}, {"window", {}}};
        assignVariantParams(c, {"k=9", "window.w=12"});
        QCOMPARE(c[0].params.at("k"), 9.0);  // a bare key: every chosen variant that has it
        QCOMPARE(c[1].params.at("k"), 9.0);
        QCOMPARE(c[2].params.at("w"), 12.0);
        QVERIFY(!c[2].params.count("k"));
        QVERIFY_THROWS_EXCEPTION(Error, assignVariantParams(c, {"n_it=3"}));           // none has it
        QVERIFY_THROWS_EXCEPTION(Error, assignVariantParams(c, {"sinkhorn.n_it=3"}));  // not chosen
        QVERIFY_THROWS_EXCEPTION(Error, assignVariantParams(c, {"topk.k=0"}));         // out of range
        Options o;
        o.set("--layer", "1");
        o.set("--variants", "softmax,sinkhorn");
        o.set("--variant-params", "n_it=4,sinkhorn.targets=mass_of_softmax");
        o.set("--variant-all-layers", "1");
        const VariantsRequest r = variantsRequestFrom(o);
        QCOMPARE(r.layer, 1);
        QCOMPARE(r.head, -1);
        QVERIFY(r.substitute && r.allLayers);
        QCOMPARE(r.variants[1].params.at("n_it"), 4.0);
        QCOMPARE(r.variants[1].params.at("targets"), 1.0);
        o.set("--variants", "softmax,nonesuch");
        QVERIFY_THROWS_EXCEPTION(Error, variantsRequestFrom(o));
        QCOMPARE(variantsRequestFrom(Options{}).variants.size(), variantInfos().size());  // none named: all
    }

    void sectionRoundTrips() {
        auto inspector = inspectorWith(40);
        VariantsRequest r = requestOf({{"softmax", {}}, {"relu_linear", {}}, {"sinkhorn", {{"n_it", 3}}}}, 0);
        r.substitute = true;
        r.continuation = 2;
        const VariantsResult a = inspector->variants(r);
        QCOMPARE(a.variants[2].paramText, std::string("n_it=3 targets=causal_uniform"));
        const SessionSection s = encodeVariants(a);
        const VariantsResult b = decodeVariants(s);
        QCOMPARE(b.variants.size(), a.variants.size());
        for (size_t i = 0; i < a.variants.size(); ++i) {
            QCOMPARE(b.variants[i].name, a.variants[i].name);
            QCOMPARE(b.variants[i].params, a.variants[i].params);
            QCOMPARE(b.variants[i].heads.size(), a.variants[i].heads.size());
            QCOMPARE(b.variants[i].mean.rowKlMean, a.variants[i].mean.rowKlMean);
            QCOMPARE(b.variants[i].endToEnd.kl, a.variants[i].endToEnd.kl);
            QCOMPARE(b.variants[i].endToEnd.continuation, a.variants[i].endToEnd.continuation);
        }
        SessionSection bad = s;
        bad.tensors["kl_1"] = SessionTensor::f64({3}, {0, 0, 0});  // not one KL per token
        QVERIFY_THROWS_EXCEPTION(Error, decodeVariants(bad));
        bad = s;
        bad.params["variants"][0].erase("mean");
        QVERIFY_THROWS_EXCEPTION(Error, decodeVariants(bad));
        bad = s;
        bad.params["tokens"] = "forty";
        QVERIFY_THROWS_EXCEPTION(Error, decodeVariants(bad));
    }

    void badRequests() {
        auto inspector = inspectorWith(30);
        QVERIFY_THROWS_EXCEPTION(Error, inspector->variants(requestOf({{"softmax", {}}}, 2)));     // 2 layers
        QVERIFY_THROWS_EXCEPTION(Error, inspector->variants(requestOf({{"softmax", {}}}, 0, 4)));  // 4 heads
        QVERIFY_THROWS_EXCEPTION(Error, inspector->variants(requestOf({{"bogus", {}}}, 0)));
        VariantsRequest r = requestOf({{"softmax", {}}}, 0);
        r.continuation = -1;
        QVERIFY_THROWS_EXCEPTION(Error, inspector->variants(r));
        std::stop_source stop;
        stop.request_stop();
        try {
            inspector->variants(requestOf({}, 0), JobControl(stop.get_token()));
            QFAIL("a stopped job must not finish");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Cancelled);
        }
        Inspector none;
        QVERIFY_THROWS_EXCEPTION(Error, none.variants(requestOf({{"softmax", {}}}, 0)));
    }
};

QTEST_GUILESS_MAIN(TestVariantsLab)
#include "tst_variants_lab.moc"
