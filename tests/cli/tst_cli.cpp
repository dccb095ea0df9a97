// attnscope-cli end to end: outputs checked against Hugging Face's reference for the
// fixtures and llama2.c's published sample; exit codes and messages for bad input.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "fixture_ref.h"
#include "cli_runner.h"
#include "test_paths.h"

using namespace attnscope;

using clitest::cli;
using clitest::idsArg;
using clitest::Result;


class TestCli : public QObject {
    Q_OBJECT
private slots:
    void helpAndVersion();
    void infoMatchesConfig();
    void attentionCsvMatchesTransformers();
    void statsMatchTransformersAttention();
    void dumpMatchesTransformers();
    void runStories260K();
    void badInputExitCodes();
    void defaultModelOpensWithoutArguments();

private:
    QTemporaryDir m_tmp;
};

void TestCli::helpAndVersion() {
    const Result h = cli({"--help"});
    QCOMPARE(h.code, 0);
    for (const char* verb : {"info", "run", "attention", "stats"}) QVERIFY(h.out.contains(verb));
    QCOMPARE(cli({"--version"}).code, 0);
}

void TestCli::infoMatchesConfig() {
    const QString dir = testpaths::data("models/llama3");
    const Result r = cli({"info", "--model", dir, "--json"});
    QCOMPARE(r.code, 0);
    QFile cf(dir + "/config.json");
    QVERIFY(cf.open(QIODevice::ReadOnly));
    const QJsonObject cfg = QJsonDocument::fromJson(cf.readAll()).object();
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["architecture"].toString(), cfg["model_type"].toString());
    QCOMPARE(j["layers"].toInt(), cfg["num_hidden_layers"].toInt());
    QCOMPARE(j["heads"].toInt(), cfg["num_attention_heads"].toInt());
    QCOMPARE(j["kv_heads"].toInt(), cfg["num_key_value_heads"].toInt());
    QCOMPARE(j["head_dim"].toInt(), cfg["head_dim"].toInt());
    QCOMPARE(j["vocab_size"].toInt(), cfg["vocab_size"].toInt());
    QCOMPARE(j["context_length"].toInt(), cfg["max_position_embeddings"].toInt());
    // Tied embeddings: V*D + per layer (2 norms + q,o: D*D + k,v: D*kv + 3 MLP: D*F) + final norm.
    const int D = 32, F = 64, V = 256, kv = 16, L = 2;
    QCOMPARE(j["parameters"].toInteger(), qint64(V * D + L * (2 * D + 2 * D * D + 2 * D * kv + 3 * D * F) + D));
}

void TestCli::attentionCsvMatchesTransformers() {
    const QString dir = testpaths::data("models/qwen2");
    auto ref = io::SafetensorsFile::open((dir + "/ref.safetensors").toStdString());
    const auto ids = fixture::ids(*ref);
    const auto attn = fixture::floats(*ref, "attentions");  // [L,H,T,T]
    const QString out = m_tmp.filePath("a.csv");
    const Result r = cli({"attention", "--model", dir, "--ids", idsArg(ids), "--layer", "1", "--head", "3", "--out", out});
    QVERIFY2(r.code == 0, r.err.constData());
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    const int T = int(ids.size()), H = 4;
    QCOMPARE(lines.size(), T);
    for (int i = 0; i < T; ++i) {
        const QList<QByteArray> cells = lines[i].split(',');
        QCOMPARE(cells.size(), T);
        for (int j = 0; j < T; ++j) {
            const double want = attn.data[size_t(((1 * H + 3) * T + i) * T + j)];
            QVERIFY(std::abs(cells[j].toDouble() - want) <= 1e-5);
            if (j > i) QCOMPARE(cells[j].toDouble(), 0.0);
        }
    }
}

void TestCli::statsMatchTransformersAttention() {
    const QString dir = testpaths::data("models/gpt_neox");
    auto ref = io::SafetensorsFile::open((dir + "/ref.safetensors").toStdString());
    const auto ids = fixture::ids(*ref);
    const auto attn = fixture::floats(*ref, "attentions");
    // From the kept q/k, and taken while the forward runs (--during-forward keeps no q/k).
    for (const QString& mode : {QString(), QStringLiteral("--during-forward")}) {
    QStringList args{"stats", "--model", dir, "--ids", idsArg(ids), "--json", "--min-query-pos", "3"};
    if (!mode.isEmpty()) args << mode;
    const Result r = cli(args);
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonArray layers = QJsonDocument::fromJson(r.out).object()["layers"].toArray();
    const int T = int(ids.size()), H = 4, L = 2;
    QCOMPARE(layers.size(), L);
    for (int l = 0; l < L; ++l)
        for (int h = 0; h < H; ++h) {
            const QJsonObject s = layers[l].toObject()["heads"].toArray()[h].toObject();
            const float* A = attn.data.data() + (l * H + h) * T * T;
            for (int j = 0; j < T; ++j) {
                double col = 0, colR = 0, ent = 0;
                for (int i = 0; i < T; ++i) {
                    col += A[i * T + j];
                    if (i >= 3) colR += A[i * T + j];
                    if (A[j * T + i] > 0) ent -= A[j * T + i] * std::log(double(A[j * T + i]));
                }
                const double n = T - std::max(j, 3);  // queries i >= max(j, 3) see key j
                QVERIFY(std::abs(s["col_sum"].toArray()[j].toDouble() - col) <= 1e-5);
                QVERIFY(std::abs(s["col_mean_causal"].toArray()[j].toDouble() - colR / n) <= 1e-5);
                QVERIFY(std::abs(s["entropy"].toArray()[j].toDouble() - ent) <= 1e-4);
            }
        }
    }
}

void TestCli::dumpMatchesTransformers() {
    const QString dir = testpaths::data("models/gpt2");
    auto ref = io::SafetensorsFile::open((dir + "/ref.safetensors").toStdString());
    const QString out = m_tmp.filePath("trace.safetensors");
    const Result r = cli({"dump", "--model", dir, "--ids", idsArg(fixture::ids(*ref)), "--out", out});
    QVERIFY2(r.code == 0, r.err.constData());
    auto got = io::SafetensorsFile::open(out.toStdString());
    for (const char* name : {"logits", "attentions"}) {
        const auto a = fixture::floats(*got, name), b = fixture::floats(*ref, name);
        QCOMPARE(a.shape, b.shape);
        QVERIFY(fixture::maxAbsDiff(a.data.data(), b.data.data(), a.data.size()) <= 1e-4);
    }
}

void TestCli::runStories260K() {
    const QString dir = testpaths::stories260K();
    if (dir.isEmpty()) QSKIP("../shared/models/stories260K is absent");
    const Result r = cli({"run", "--model", dir + "/stories260K.bin", "--tokenizer", dir + "/tok512.bin",
                          "--prompt", "", "--generate", "20", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["tokens"].toArray().size(), 1);  // BOS only
    QCOMPARE(j["tokens"].toArray()[0].toInt(), 1);
    QCOMPARE(j["generated_tokens"].toArray().size(), 20);
    QVERIFY2(j["generated_text"].toString().trimmed().startsWith("Once upon a time, there was a little girl"),
             qPrintable(j["generated_text"].toString()));
    const QJsonArray top = j["next_top"].toArray();
    QCOMPARE(top.size(), 10);
    QCOMPARE(top[0].toObject()["id"].toInt(), j["generated_tokens"].toArray()[0].toInt());
    double sum = 0;
    for (int i = 0; i < 10; ++i) {
        sum += top[i].toObject()["prob"].toDouble();
        if (i) QVERIFY(top[i].toObject()["prob"].toDouble() <= top[i - 1].toObject()["prob"].toDouble());
    }
    QVERIFY(sum <= 1.0 + 1e-9);
}

void TestCli::badInputExitCodes() {
    Result r = cli({"info", "--model", "/nonexistent/x"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("/nonexistent/x"));
    r = cli({"info", "--model", testpaths::data("models/gpt2"), "--bogus"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("--bogus"));
    QStringList longIds;
    for (int i = 0; i < 65; ++i) longIds << "5";
    r = cli({"run", "--model", testpaths::data("models/gpt2"), "--ids", longIds.join(',')});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("context"));
    QCOMPARE(cli({"nosuchverb"}).code, 2);
    r = cli({"run", "--model", testpaths::data("models/gpt2"), "--prompt", "hi"});  // fixture has no tokenizer
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("no tokenizer"));
}

void TestCli::defaultModelOpensWithoutArguments() {
    // The built-in model (resources/models/attnscope-tiny) is used when --model is absent.
    const Result r = cli({"info", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["architecture"].toString(), QString("llama"));
    QCOMPARE(j["layers"].toInt(), 6);
    QCOMPARE(j["kv_heads"].toInt(), 2);
    QVERIFY(j["tokenizer"].toBool());
    const Result g = cli({"run", "--prompt", "The Constitution of the United States", "--generate", "5", "--json"});
    QVERIFY2(g.code == 0, g.err.constData());
    QCOMPARE(QJsonDocument::fromJson(g.out).object()["tokens"].toArray()[0].toInt(), 0);  // <|bos|>
    // The checkpoint series opens by training step; an untrained model predicts nearly
    // uniformly (top probability about 1/vocab), the trained one does not.
    auto topProb = [](const QStringList& extra) {
        const Result r = cli(QStringList{"run", "--prompt", "The Constitution of the United", "--json"} + extra);
        return QJsonDocument::fromJson(r.out).object()["next_top"].toArray()[0].toObject()["prob"].toDouble();
    };
    QVERIFY(topProb({"--step", "0"}) < 0.01);
    QVERIFY(topProb({"--step", "1200"}) > 0.3);
    const Result bad = cli({"info", "--step", "7"});
    QCOMPARE(bad.code, 2);
    QVERIFY(bad.err.contains("no checkpoint at step 7"));
}

QTEST_APPLESS_MAIN(TestCli)
#include "tst_cli.moc"
