// The decoder against independent references: Hugging Face transformers' outputs for a
// tiny model of every family, and llama2.c's published greedy sample of stories260K.
#include <QFile>
#include <QtTest>

#include "attnscope/error.h"
#include "attnscope/model.h"
#include "attnscope/tokenizer.h"
#include "fixture_ref.h"
#include "test_models.h"
#include "test_paths.h"
#include "test_rows.h"

using namespace attnscope;

class TestRuntime : public QObject {
    Q_OBJECT
private slots:
    void matchesTransformers_data() { testrows::addFamilyRows("family"); }
    void matchesTransformers();
    void stories260KGreedyMatchesLlama2c();
    void kvCacheGenerationMatchesFullForward();
    void samplingLimitsAreGreedy();
};

void TestRuntime::matchesTransformers() {
    QFETCH(QString, family);
    const QString dir = testpaths::data("models/" + family);
    auto ref = io::SafetensorsFile::open((dir + "/ref.safetensors").toStdString());
    const auto ids = fixture::ids(*ref);
    const auto logits = fixture::floats(*ref, "logits");
    const auto hidden = fixture::floats(*ref, "hidden_states");
    const auto attn = fixture::floats(*ref, "attentions");
    QVERIFY(!ids.empty() && !logits.data.empty() && !hidden.data.empty() && !attn.data.empty());

    auto model = testmodels::openPath(dir.toStdString());
    auto trace = model->run(ids);
    const int64_t T = int64_t(ids.size()), L = trace->nLayers(), H = trace->nHeads();
    QCOMPARE(L, hidden.shape[0] - 1);
    QCOMPARE(int64_t(H), attn.shape[1]);

    const Matrix2D lg = trace->logits();
    QCOMPARE(lg.rows, T);
    QCOMPARE(lg.cols, logits.shape[1]);
    const double logitErr = fixture::maxAbsDiff(lg.data.data(), logits.data.data(), lg.data.size());
    QVERIFY2(logitErr <= 1e-4, qPrintable(QString("logits max-abs %1").arg(logitErr)));

    // HF hidden_states: [0] embeddings, [l+1] output of layer l; the last has the final
    // norm applied, so it is covered by the logits instead.
    const int64_t D = hidden.shape[2];
    const Matrix2D emb = trace->captured(Capture::ResidIn, 0);
    QVERIFY(fixture::maxAbsDiff(emb.data.data(), hidden.data.data(), size_t(T * D)) <= 1e-5);
    for (int l = 0; l + 1 < L; ++l) {
        const Matrix2D h = trace->captured(Capture::ResidOut, l);
        const double e = fixture::maxAbsDiff(h.data.data(), hidden.data.data() + (l + 1) * T * D, size_t(T * D));
        QVERIFY2(e <= 1e-4, qPrintable(QString("hidden state %1 max-abs %2").arg(l).arg(e)));
    }
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
            const Matrix2D a = trace->attentionTile(l, h, 0, T, 0, T);
            const double e = fixture::maxAbsDiff(a.data.data(), attn.data.data() + (l * H + h) * T * T, size_t(T * T));
            QVERIFY2(e <= 1e-5, qPrintable(QString("attention l%1 h%2 max-abs %3").arg(l).arg(h).arg(e)));
        }
}

void TestRuntime::stories260KGreedyMatchesLlama2c() {
    const QString dir = testpaths::stories260K();
    if (dir.isEmpty()) QSKIP("../shared/models/stories260K is absent (it lives beside the project checkout)");
    QFile f(testpaths::data("stories260K_greedy.txt"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const std::string published = f.readAll().toStdString();

    auto model = testmodels::openStories(dir);
    QCOMPARE(model->info().nLayers, 5);
    QCOMPARE(model->info().nKvHeads, 4);
    // llama2.c's run.c: prompt = BOS only, 256 steps, greedy: 256 printed tokens.
    const Generation g = model->generate({1}, 256, false);
    QVERIFY(g.tokens.size() >= 100);
    std::string text = model->tokenizer()->decode(g.tokens);
    text.erase(0, text.find_first_not_of(" "));
    QVERIFY2(text.rfind(published, 0) == 0,
             qPrintable(QString::fromStdString("generated:\n" + text.substr(0, published.size()))));
}

void TestRuntime::kvCacheGenerationMatchesFullForward() {
    // Greedy decoding with the KV cache must pick the argmax of a full re-run at every step.
    auto model = testmodels::openFixture("mistral");  // sliding window 6 < length
    std::vector<int32_t> ids = {5, 17, 200, 3, 99};
    const Generation g = model->generate(ids, 12, false);
    QCOMPARE(int(g.tokens.size()), 12);
    for (int32_t next : g.tokens) {
        const Matrix2D lg = model->run(ids)->logits();
        const float* last = lg.data.data() + (lg.rows - 1) * lg.cols;
        QCOMPARE(int32_t(std::max_element(last, last + lg.cols) - last), next);
        ids.push_back(next);
    }
}

void TestRuntime::samplingLimitsAreGreedy() {
    // Nucleus sampling with top-p -> 0 keeps only the argmax, and a vanishing temperature
    // concentrates all mass on it: both must reproduce greedy decoding exactly.
    auto model = testmodels::openFixture("qwen2");
    const std::vector<int32_t> ids = {7, 42, 99, 3};
    const auto greedy = model->generate(ids, 16, false).tokens;
    SamplingOptions nucleus{1.0, 1e-9, 5};
    QCOMPARE(model->generate(ids, 16, false, {}, nucleus).tokens, greedy);
    SamplingOptions cold{1e-6, 1.0, 5};
    QCOMPARE(model->generate(ids, 16, false, {}, cold).tokens, greedy);
    // The same seed gives the same sample; random weights give a flat distribution, so
    // two seeds differ somewhere in 16 tokens.
    SamplingOptions hot{1.0, 1.0, 11};
    const auto a = model->generate(ids, 16, false, {}, hot).tokens;
    QCOMPARE(model->generate(ids, 16, false, {}, hot).tokens, a);
    hot.seed = 12;
    QVERIFY(model->generate(ids, 16, false, {}, hot).tokens != a);
    SamplingOptions bad{-1.0, 1.0, 0};
    QVERIFY_THROWS_EXCEPTION(Error, model->generate(ids, 4, false, {}, bad));
}

QTEST_APPLESS_MAIN(TestRuntime)
#include "tst_runtime.moc"
