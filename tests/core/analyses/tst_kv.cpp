// The KV policies' prefill decisions against independent references (kv_reference.h):
// for every policy, the kept sets on stories260K, the qwen2 and mistral fixtures (ids
// given directly) and the built-in model equal those computed here from the formulas over
// materialized attention. Differences are allowed only between tokens whose reference
// scores tie at the top-k boundary (float vs double).
#include <QtTest>

#include <cmath>
#include <map>

#include "attnscope/analyses/kv.h"
#include "attnscope/error.h"
#include "attnscope/model.h"
#include "kv_reference.h"
#include "test_models.h"
#include "test_rows.h"

using namespace attnscope;

namespace {

struct Case : testmodels::ModelRun {
    int64_t Tp = 0;  // prompt length: the tokens after it are the continuation
    kvref::Rope rope;
};

// The model, prompt + continuation ids and the prompt length of a named case; false: absent.
bool loadCase(const QString& name, Case& c) {
    std::vector<int32_t> ids;
    if (name == "stories260K") {
        const QString dir = testpaths::stories260K();
        if (dir.isEmpty()) return false;
        c.model = testmodels::openStories(dir);
        ids = testmodels::dataPrompt(*c.model, "stories260K_greedy.txt", 200);
        if (ids.empty()) return false;
        c.Tp = 160;
        c.rope.interleaved = true;  // llama2.c pairs (2i, 2i+1)
    } else if (name == "tiny") {
        c.model = testmodels::openBuiltin();
        ids = c.model->tokenize("The President shall, from time to time, give to the Congress information of the "
                                "State of the Union, and recommend to their Consideration such Measures as he shall "
                                "judge necessary and expedient. Call me Ishmael. Some years ago, never mind how long "
                                "precisely, having little or no money in my purse, and nothing particular to interest "
                                "me on shore, I thought I would sail about a little and see the watery part of the world.",
                                true);
        c.Tp = int64_t(ids.size()) - 16;
    } else {  // qwen2 / mistral fixtures: seeded ids
        c.model = testmodels::openFixture(name);
        ids = testmodels::seededIds(7, 120);
        c.Tp = 100;
    }
    c.trace = c.model->run(ids);
    return true;
}

struct Config {
    std::string policy;
    int64_t budget;
    std::map<std::string, double> values;
};

QString describe(const Config& c) {
    QString s = QString::fromStdString(c.policy) + " B=" + QString::number(c.budget);
    for (const auto& [k, v] : c.values) s += " " + QString::fromStdString(k) + "=" + QString::number(v);
    return s;
}

kvref::Agg agg(const Config& c, const char* key, double dflt) {
    auto it = c.values.find(key);
    return kvref::Agg(int(it == c.values.end() ? dflt : it->second));
}

double val(const Config& c, const char* key, double dflt) {
    auto it = c.values.find(key);
    return it == c.values.end() ? dflt : it->second;
}

kvref::Ref reference(const kvref::Att& a, const Config& c, const KvInputs& in, const kvref::Rope& rope) {
    const int64_t B = c.budget;
    const std::string& p = c.policy;
    if (p == "streaming_llm") return kvref::streaming(a, B, std::min<int64_t>(4, B));
    if (p == "recency") return kvref::recency(a, B);
    if (p == "h2o") return kvref::h2o(a, B, agg(c, "gqa", 0));
    if (p == "snapkv")
        return kvref::snapkv(a, B, int64_t(val(c, "window", 32)), int(val(c, "kernel", 5)), val(c, "pool", 0) > 0, agg(c, "gqa", 0));
    if (p == "pyramidkv")
        return kvref::pyramidkv(a, B, std::min<int64_t>(int64_t(val(c, "window", 8)), B), int(val(c, "kernel", 7)),
                                val(c, "pool", 1) > 0, 20, agg(c, "gqa", 1));
    if (p == "tova") return kvref::tova(a, B);
    if (p == "scissorhands") return kvref::scissorhands(a, B, std::max<int64_t>(B / 2, 1), B / 4);
    if (p == "zipcache") return kvref::zipcache(a, B, in.zipProbes);
    if (p == "triattention") return kvref::triattention(a, B, rope);
    if (p == "expected_attention") return kvref::expected(a, B, rope, 4, 512);
    if (p == "knorm") return kvref::knorm(a, B);
    if (p == "random") return kvref::random(a, B, uint64_t(val(c, "seed", 0)));
    qFatal("no reference for %s", p.c_str());
}

// Kept sets equal, except swaps among tokens whose reference scores lie within `tol` of
// the boundary score (the lowest kept non-forced score). Returns "" or a message.
QString compareKept(const KvSelection& sel, const kvref::Ref& ref, double tol, int& borderline) {
    if (int(ref.kept.size()) != sel.nLayers) return "layer count";
    for (int l = 0; l < sel.nLayers; ++l) {
        if (ref.kept[size_t(l)].size() != size_t(sel.heads))
            return QString("layer %1: %2 heads, reference %3").arg(l).arg(sel.heads).arg(ref.kept[size_t(l)].size());
        for (int h = 0; h < sel.heads; ++h) {
            const kvref::Keep& want = ref.kept[size_t(l)][size_t(h)];
            const std::vector<int64_t>& got = sel.kept[size_t(l)][size_t(h)];
            if (got == want) continue;
            const std::vector<double>& s = ref.score[size_t(l)][size_t(h)];
            if (got.size() != want.size())
                return QString("layer %1 head %2: %3 kept, reference %4").arg(l).arg(h).arg(got.size()).arg(want.size());
            double boundary = kvref::kForced, scale = 0;
            for (int64_t j : want)
                if (s[size_t(j)] != kvref::kForced) boundary = std::min(boundary, s[size_t(j)]);
            for (double x : s)
                if (x != kvref::kForced) scale = std::max(scale, std::abs(x));
            std::vector<int64_t> diff;
            std::set_symmetric_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(diff));
            for (int64_t j : diff) {
                if (std::abs(s[size_t(j)] - boundary) > tol * std::max(scale, 1e-30))
                    return QString("layer %1 head %2: token %3 (score %4, boundary %5) differs").arg(l).arg(h).arg(j).arg(
                        s[size_t(j)], 0, 'g', 9).arg(boundary, 0, 'g', 9);
                ++borderline;
            }
        }
    }
    return {};
}

}  // namespace

class TestKv : public QObject {
    Q_OBJECT
private slots:
    void registry();
    void keptEqualsReference_data();
    void keptEqualsReference();
    void pyramidBudgets();
    void parametersAndErrors();
};

void TestKv::registry() {
    const std::vector<std::string> want = {"streaming_llm", "h2o", "snapkv", "pyramidkv", "tova", "scissorhands",
                                           "zipcache", "triattention", "expected_attention", "knorm", "random", "recency"};
    QCOMPARE(int(kvPolicies().size()), int(want.size()));
    for (size_t i = 0; i < want.size(); ++i) {
        QCOMPARE(kvPolicies()[i].name, want[i]);
        QVERIFY(!kvPolicies()[i].source.empty());
        for (const KvParamSpec& s : kvPolicies()[i].params) QVERIFY2(!s.help.empty(), s.name.c_str());
    }
    QVERIFY(kvPolicy("h2o").decode);
    QVERIFY(!kvPolicy("snapkv").decode);
    QVERIFY(kvPolicy("zipcache").precision);
    QVERIFY_THROWS_EXCEPTION(Error, kvPolicy("nope"));
}

void TestKv::keptEqualsReference_data() {
    testrows::addStringRows("name", {{"stories260K", "stories260K"},
                                     {"qwen2", "qwen2"},
                                     {"mistral (sliding window 6)", "mistral"},
                                     {"attnscope-tiny", "tiny"}});
}

void TestKv::keptEqualsReference() {
    QFETCH(QString, name);
    Case c;
    if (!loadCase(name, c)) QSKIP("../shared/models/stories260K is absent");
    const int64_t window = c.model->info().slidingWindow;
    const kvref::Att a = kvref::materialize(*c.trace, c.Tp, window);
    std::vector<Config> configs;
    for (int64_t B : {12, 40}) {
        for (const char* p : {"streaming_llm", "recency", "tova", "zipcache", "triattention", "expected_attention", "knorm"})
            configs.push_back({p, B, {}});
        for (double g : {0, 1, 2, 3}) configs.push_back({"h2o", B, {{"gqa", g}}});
        configs.push_back({"snapkv", B, {}});
        configs.push_back({"snapkv", B, {{"window", 8}, {"kernel", 3}, {"pool", 1}, {"gqa", 1}}});
        configs.push_back({"snapkv", B, {{"window", 4}, {"kernel", 7}, {"gqa", 2}}});
        configs.push_back({"pyramidkv", B, {}});
        configs.push_back({"pyramidkv", B, {{"pool", 0}, {"gqa", 0}}});
        configs.push_back({"scissorhands", B, {}});
        configs.push_back({"random", B, {{"seed", 3}}});
    }
    std::vector<KvParams> params;
    for (const Config& cf : configs) params.push_back({cf.policy, cf.budget, KvMode::Prefill, cf.values});
    const KvInputs in = computeKvInputs(*c.model, *c.trace, kvInputOptionsFor(params, c.Tp));
    QCOMPARE(in.promptLength, c.Tp);
    // ZipCache probes: the last 5% of the prompt rows plus as many distinct earlier ones.
    const int64_t nProbe = std::max<int64_t>(1, int64_t(0.05 * double(c.Tp)));
    QVERIFY(int64_t(in.zipProbes.size()) <= 2 * nProbe && int64_t(in.zipProbes.size()) >= nProbe);
    for (int64_t i = c.Tp - nProbe; i < c.Tp; ++i) QVERIFY(std::count(in.zipProbes.begin(), in.zipProbes.end(), i) == 1);
    int borderline = 0;
    for (size_t i = 0; i < configs.size(); ++i) {
        const KvSelection sel = selectKv(in, params[i]);
        const kvref::Ref ref = reference(a, configs[i], in, c.rope);
        const double tol = configs[i].policy == "triattention" ? 1e-4 : configs[i].policy == "expected_attention" ? 1e-5 : 2e-6;
        const int before = borderline;
        const QString err = compareKept(sel, ref, tol, borderline);
        if (borderline > before) qInfo("  %s: %d tokens swapped at tied boundary scores", qPrintable(describe(configs[i])), borderline - before);
        QVERIFY2(err.isEmpty(), qPrintable(describe(configs[i]) + ": " + err));
        const std::string g = kvGranularityName(sel.granularity);
        const std::string& p = configs[i].policy;
        const bool gqaPolicy = p == "h2o" || p == "snapkv" || p == "pyramidkv";
        const bool perKv = gqaPolicy ? val(configs[i], "gqa", p == "pyramidkv" ? 1 : 0) > 0
                                     : p == "zipcache" || p == "triattention" || p == "expected_attention" ||
                                           p == "knorm" || p == "random";
        if (p == "streaming_llm" || p == "recency" || p == "tova") QCOMPARE(g, std::string("layer"));
        else QCOMPARE(g, std::string(perKv ? "kv_head" : "query_head"));
        // The visibility limits agree with the kept sets.
        for (int l = 0; l < sel.nLayers; ++l)
            for (int h = 0; h < sel.heads; ++h)
                for (int64_t j = 0; j < c.Tp; ++j) {
                    const auto& k = sel.kept[size_t(l)][size_t(h)];
                    const bool kept = std::binary_search(k.begin(), k.end(), j) || sel.precision;
                    QCOMPARE(sel.visibleUntil(l, h, j), kept ? kKvNever : c.Tp);
                }
    }
    qInfo("%s: %zu configurations, %d borderline swaps", qPrintable(name), configs.size(), borderline);
}

void TestKv::pyramidBudgets() {
    // The reference's worked example: P = 512, w = 8, L = 32 → cap_0 = 983, cap_31 = 53.
    const std::vector<int64_t> cap = kvref::pyramidCaps(512, 8, 20, 4096, 32);
    QCOMPARE(cap.front(), 983LL);
    QCOMPARE(cap.back(), 53LL);
    // The module on a random GQA model: layer budgets fall linearly around the average.
    RandomModelSpec spec;
    spec.nLayers = 4;
    auto m = Model::random(spec);
    std::vector<int32_t> ids(300);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 37) % 256);
    auto tr = m->run(ids);
    const KvParams p{"pyramidkv", 64, KvMode::Prefill, {}};
    const KvInputs in = computeKvInputs(*m, *tr, kvInputOptionsFor({p}, 280));
    const KvSelection sel = selectKv(in, p);
    const std::vector<int64_t> want = kvref::pyramidCaps(64, 8, 20, 280, 4);
    for (int l = 0; l < 4; ++l) {
        QCOMPARE(sel.layerBudget[size_t(l)], want[size_t(l)] + 8);
        QCOMPARE(int64_t(sel.kept[size_t(l)][0].size()), want[size_t(l)] + 8);
    }
    QVERIFY(sel.layerBudget[0] > sel.layerBudget[3]);
}

void TestKv::parametersAndErrors() {
    RandomModelSpec spec;
    auto m = Model::random(spec);
    std::vector<int32_t> ids(80);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 11) % 256);
    auto tr = m->run(ids);
    const KvInputs in = computeKvInputs(*m, *tr, kvInputOptionsFor({}, 60));
    KvParams p{"h2o", 16, KvMode::Prefill, {{"heavy", 10}}};
    const KvSelection sel = selectKv(in, p);  // heavy 10 → recent 6
    for (const auto& kept : sel.kept[0]) {
        QCOMPARE(int(kept.size()), 16);
        for (int64_t j = 54; j < 60; ++j) QVERIFY(std::binary_search(kept.begin(), kept.end(), j));
    }
    p.values = {{"heavy", 10}, {"recent", 10}};
    QVERIFY_THROWS_EXCEPTION(Error, selectKv(in, p));  // heavy + recent must equal the budget
    p.values = {{"nope", 1}};
    QVERIFY_THROWS_EXCEPTION(Error, p.get("nope"));
    KvInputOptions few = kvInputOptionsFor({}, 60);
    few.windowRows = 8;
    const KvInputs small = computeKvInputs(*m, *tr, few);
    p = {"snapkv", 32, KvMode::Prefill, {{"window", 16}}};
    QVERIFY(!kvNeedsRecompute(in, p));
    QVERIFY(kvNeedsRecompute(small, p));  // 16 window rows, 8 computed
    QVERIFY_THROWS_EXCEPTION(Error, selectKv(small, p));
    p.values = {{"window", 20}, {"kernel", 4}};
    QVERIFY_THROWS_EXCEPTION(Error, selectKv(in, p));  // even kernel
    p = {"snapkv", 0, KvMode::Prefill, {}};
    QVERIFY_THROWS_EXCEPTION(Error, selectKv(in, p));
    p = {"expected_attention", 16, KvMode::Prefill, {{"future", 64}}};
    QVERIFY(kvNeedsRecompute(in, p));
    QVERIFY_THROWS_EXCEPTION(Error, selectKv(in, p));
    // Budget >= prompt: everything stays.
    p = {"tova", 500, KvMode::Prefill, {}};
    QCOMPARE(int(selectKv(in, p).kept[0][0].size()), 60);
}

QTEST_APPLESS_MAIN(TestKv)
#include "tst_kv.moc"
