// attnscope-cli sinks end to end: the JSON shape of issue 5, sink scores equal to the mean
// over heads of `stats`' col_mean_causal for the same prompt, head fractions recomputed from
// those, hidden norms against Hugging Face's hidden states, and exit codes for bad input.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "fixture_ref.h"
#include "cli_runner.h"
#include "test_paths.h"

using namespace attnscope;

using clitest::cli;
using clitest::idsArg;
using clitest::Result;

namespace {

// Checks the shape of `sinks --json` and its scores against `stats --json` (same model
// arguments); returns the sinks JSON.
QJsonObject checkAgainstStats(const QStringList& modelArgs, int minQueryPos, double eps) {
    const QStringList mqp = {"--min-query-pos", QString::number(minQueryPos)};
    const Result s = cli(QStringList{"sinks"} + modelArgs + mqp + QStringList{"--epsilon", QString::number(eps), "--json"});
    const Result st = cli(QStringList{"stats"} + modelArgs + mqp + QStringList{"--json"});
    if (s.code != 0 || st.code != 0) {
        qWarning("%s %s", s.err.constData(), st.err.constData());
        return {};
    }
    const QJsonObject j = QJsonDocument::fromJson(s.out).object();
    const QJsonArray statLayers = QJsonDocument::fromJson(st.out).object()["layers"].toArray();
    const int T = QJsonDocument::fromJson(st.out).object()["tokens"].toArray().size();
    for (const char* key : {"primary", "onset", "offset", "layers", "sinks", "levels"})
        if (!j.contains(key)) qWarning("missing key %s", key);
    const QJsonArray layers = j["layers"].toArray();
    if (layers.size() != statLayers.size()) return {};
    for (int l = 0; l < layers.size(); ++l) {
        const QJsonObject y = layers[l].toObject();
        for (const char* key : {"sink_score", "frac_heads", "cos_to_primary", "hidden_norm", "mlp_cos_to_primary", "mlp_norm"})
            if (y[key].toArray().size() != T) {
                qWarning("layer %d: %s has %d entries, want %d", l, key, int(y[key].toArray().size()), T);
                return {};
            }
        const QJsonArray heads = statLayers[l].toObject()["heads"].toArray();
        for (int t = 0; t < T; ++t) {
            double mean = 0, frac = 0;
            for (const auto& h : heads) {
                const double a = h.toObject()["col_mean_causal"].toArray()[t].toDouble();
                mean += a / heads.size();
                frac += (a > eps ? 1.0 : 0.0) / heads.size();
            }
            if (std::abs(y["sink_score"].toArray()[t].toDouble() - mean) > 1e-6 ||
                std::abs(y["frac_heads"].toArray()[t].toDouble() - frac) > 1e-6) {
                qWarning("layer %d token %d: sink_score/frac_heads differ from stats", l, t);
                return {};
            }
        }
    }
    return j;
}

}  // namespace

class TestCliSinks : public QObject {
    Q_OBJECT
private slots:
    void fixtureJsonAndStats();
    void stories260K();
    void badInput();
};

void TestCliSinks::fixtureJsonAndStats() {
    const QString dir = testpaths::data("models/qwen2");
    auto ref = io::SafetensorsFile::open((dir + "/ref.safetensors").toStdString());
    const auto ids = fixture::ids(*ref);
    const auto hs = fixture::floats(*ref, "hidden_states");  // [L+1, T, D]; the last is post final norm
    const QStringList model = {"--model", dir, "--ids", idsArg(ids)};
    const QJsonObject j = checkAgainstStats(model, 3, 0.2);
    QVERIFY(!j.isEmpty());
    QVERIFY(!checkAgainstStats(model, 0, 0.3).isEmpty());
    const int T = int(ids.size()), L = 2;
    const int64_t D = hs.shape[2];
    const int p0 = j["primary"].toInt();
    QVERIFY(p0 == 0 || p0 == 1);  // the default BOS candidates
    QVERIFY(j["onset"].toInt() >= 0 && j["onset"].toInt() < j["offset"].toInt() && j["offset"].toInt() <= L);
    // Layer 0's output is HF hidden_states[1]: norms and the cosine to p0, computed here.
    const QJsonObject y0 = j["layers"].toArray()[0].toObject();
    const float* x = hs.data.data() + T * D;
    for (int t = 0; t < T; ++t) {
        double n = 0, n0 = 0, dot = 0;
        for (int64_t c = 0; c < D; ++c) {
            n += double(x[t * D + c]) * x[t * D + c];
            n0 += double(x[p0 * D + c]) * x[p0 * D + c];
            dot += double(x[t * D + c]) * x[p0 * D + c];
        }
        QVERIFY(std::abs(y0["hidden_norm"].toArray()[t].toDouble() - std::sqrt(n)) <= 1e-4 * (1 + std::sqrt(n)));
        QVERIFY(std::abs(y0["cos_to_primary"].toArray()[t].toDouble() - dot / std::sqrt(n * n0)) <= 1e-5);
    }
    // Sinks: p0 first, valid classes, lifetimes within the range; levels count every sink.
    const QJsonArray sinks = j["sinks"].toArray();
    QVERIFY(!sinks.isEmpty());
    QCOMPARE(sinks[0].toObject()["token"].toInt(), p0);
    int levelSum = 0;
    for (const auto& v : j["levels"].toArray()) {
        const QJsonObject o = v.toObject();
        QCOMPARE(o.keys(), QStringList({"count", "creation_layer", "lifetime"}));
        levelSum += o["count"].toInt();
    }
    QCOMPARE(levelSum, int(sinks.size()));
    for (const auto& v : sinks) {
        const QJsonObject s = v.toObject();
        QCOMPARE(s.keys(), QStringList({"class", "creation_layer", "lifetime", "score", "token"}));
        QVERIFY(QStringList({"primary", "secondary", "noise"}).contains(s["class"].toString()));
        QVERIFY(s["lifetime"].toInt() >= 1 && s["lifetime"].toInt() <= j["offset"].toInt() - j["onset"].toInt());
        QVERIFY(s["creation_layer"].toInt() >= j["onset"].toInt());
        QVERIFY(s["token"].toInt() >= p0 && s["token"].toInt() < T);
    }
}

void TestCliSinks::stories260K() {
    const QString dir = testpaths::stories260K();
    if (dir.isEmpty()) QSKIP("../shared/models/stories260K is absent");
    const QStringList model = {"--model", dir + "/stories260K.bin", "--tokenizer", dir + "/tok512.bin", "--prompt",
                               "Once upon a time, there was a little girl named Lily. She loved to play outside in "
                               "the park. One day, she saw a big, red ball."};
    const QJsonObject j = checkAgainstStats(model, 0, 0.3);
    QVERIFY(!j.isEmpty());
    QCOMPARE(j["primary"].toInt(), 0);  // BOS, the sink of this model
    QCOMPARE(j["sinks"].toArray()[0].toObject()["class"].toString(), QStringLiteral("primary"));
}

void TestCliSinks::badInput() {
    const QStringList model = {"--model", testpaths::data("models/qwen2"), "--ids", "5,6,7,8"};
    QCOMPARE(cli(QStringList{"sinks"} + model + QStringList{"--rule", "bogus"}).code, 2);
    QCOMPARE(cli(QStringList{"sinks"} + model + QStringList{"--min-query-pos", "4"}).code, 2);
    QCOMPARE(cli(QStringList{"sinks"} + model + QStringList{"--epsilon", "x"}).code, 2);
    const Result r = cli(QStringList{"sinks"} + model);  // human-readable summary
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("primary sink"));
}

QTEST_APPLESS_MAIN(TestCliSinks)
#include "tst_cli_sinks.moc"
