// attnscope-cli kv / kv-sweep end to end on the built-in model: the JSON shape of issue 6,
// granularities (SnapKV --gqa mean: KV heads), budgets, lossless full budgets, decode mode,
// the sweep's CSV, and exit codes for bad input.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "cli_runner.h"

using clitest::cli;

namespace {

const QStringList kPrompt = {"--prompt", "The Congress shall have power to lay and collect taxes, duties, imposts and "
                                         "excises, to pay the debts and provide for the common defence.",
                             "--continuation", "8"};

QJsonObject kv(const QStringList& args) { return clitest::cliJson(QStringList{"kv"} + kPrompt + args); }

}  // namespace

class TestCliKv : public QObject {
    Q_OBJECT
private slots:
    void jsonShape();
    void snapkvGqaHeadsAreKvHeads();
    void fullBudgetIsLossless();
    void decodeMode();
    void sweepCsv();
    void continuationFile();
    void badInput();
};

void TestCliKv::jsonShape() {
    const QJsonObject j = kv({"--policy", "h2o", "--budget", "12"});
    QCOMPARE(j["policy"].toString(), QString("h2o"));
    QCOMPARE(j["granularity"].toString(), QString("query_head"));
    const int T = j["prompt_tokens"].toInt();
    QVERIFY(T > 12);
    QCOMPARE(j["continuation_tokens"].toInt(), 8);
    const QJsonArray layers = j["layers"].toArray();
    QCOMPARE(layers.size(), 6);
    for (const auto& l : layers) {
        const QJsonArray heads = l.toObject()["heads"].toArray();
        QCOMPARE(heads.size(), 8);
        for (const auto& h : heads) {
            const QJsonArray kept = h.toObject()["kept"].toArray();
            QCOMPARE(kept.size(), 12);
            for (int i = 1; i < kept.size(); ++i) QVERIFY(kept[i].toInt() > kept[i - 1].toInt());
            QCOMPARE(kept.last().toInt(), T - 1);  // the recent window ends at the prompt's end
        }
    }
    const QJsonObject m = j["metrics"].toObject();
    for (const char* key : {"kl", "top1", "ppl", "ppl_full", "layers"}) QVERIFY2(m.contains(key), key);
    QVERIFY(m["kl"].toDouble() > 0 && m["top1"].toDouble() <= 1);
    QCOMPARE(m["layers"].toArray().size(), 6);
    const QJsonObject l0 = m["layers"].toArray()[0].toObject();
    QVERIFY(l0["retained_mass"].toDouble() > 0 && l0["retained_mass"].toDouble() < 1);
    QVERIFY(l0.contains("output_rel_err"));
}

void TestCliKv::snapkvGqaHeadsAreKvHeads() {
    const QJsonObject j = kv({"--policy", "snapkv", "--budget", "16", "--window", "4", "--gqa", "mean"});
    QCOMPARE(j["granularity"].toString(), QString("kv_head"));
    const QJsonArray heads = j["layers"].toArray()[0].toObject()["heads"].toArray();
    QCOMPARE(heads.size(), 2);
    const int T = j["prompt_tokens"].toInt();
    for (const auto& h : heads) {  // the window is kept whole
        const QJsonArray kept = h.toObject()["kept"].toArray();
        QCOMPARE(kept.size(), 16);
        for (int i = 0; i < 4; ++i) QCOMPARE(kept[12 + i].toInt(), T - 4 + i);
    }
    QCOMPARE(kv({"--policy", "snapkv", "--budget", "16"})["granularity"].toString(), QString("query_head"));
}

void TestCliKv::fullBudgetIsLossless() {
    for (const char* p : {"streaming_llm", "tova", "knorm"}) {
        const QJsonObject m = kv({"--policy", p, "--budget", "1000"})["metrics"].toObject();
        QCOMPARE(m["kl"].toDouble(), 0.0);
        QCOMPARE(m["top1"].toDouble(), 1.0);
        QCOMPARE(m["ppl"].toDouble(), m["ppl_full"].toDouble());
    }
}

void TestCliKv::decodeMode() {
    const QJsonObject j = kv({"--policy", "h2o", "--budget", "12", "--mode", "decode"});
    QCOMPARE(j["mode"].toString(), QString("decode"));
    QCOMPARE(j["metrics"].toObject()["steps"].toInt(), 8);
    for (const auto& h : j["layers"].toArray()[0].toObject()["heads"].toArray())
        QVERIFY(h.toObject()["kept"].toArray().size() <= 12);
}

void TestCliKv::sweepCsv() {
    QTemporaryDir dir;
    const QString path = dir.filePath("sweep.csv");
    const clitest::Result r = cli(QStringList{"kv-sweep"} + kPrompt +
                                  QStringList{"--policies", "h2o,tova,streaming_llm", "--budgets", "8,16", "--csv", path});
    QVERIFY2(r.code == 0, r.err.constData());
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 7);
    QVERIFY(lines[0].startsWith("policy,budget,mode,granularity,kl,top1"));
    QVERIFY(lines[1].startsWith("h2o,8,prefill,query_head,"));
    QVERIFY(lines[6].startsWith("streaming_llm,16,prefill,layer,"));
}

void TestCliKv::continuationFile() {
    // A user text as the continuation: exactly its tokens (no BOS) are what gets evaluated.
    QTemporaryDir dir;
    const QString path = dir.filePath("continuation.txt");
    const QString text = QStringLiteral(" and so the debts of the Union were paid in full, and the people were content.");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text.toUtf8());
    f.close();
    const clitest::Result tok = cli({"run", "--prompt", text, "--no-bos", "--json"});
    QVERIFY2(tok.code == 0, tok.err.constData());
    const int n = int(QJsonDocument::fromJson(tok.out).object()["tokens"].toArray().size());
    QVERIFY(n > 8);
    const QStringList prompt = kPrompt.mid(0, 2);  // without --continuation
    auto run = [&](const QStringList& args) {
        return clitest::cliJson(QStringList{"kv"} + prompt + args + QStringList{"--continuation-file", path});
    };
    const QJsonObject j = run({"--policy", "h2o", "--budget", "8"});
    QCOMPARE(j["continuation_tokens"].toInt(), n);
    const QJsonObject m = j["metrics"].toObject();
    QVERIFY(m["kl"].toDouble() > 0);
    // The full-cache perplexity is of this text, not of the 8 greedy tokens kv() evaluates.
    const double greedyPpl = kv({"--policy", "h2o", "--budget", "8"})["metrics"].toObject()["ppl_full"].toDouble();
    QVERIFY(std::abs(m["ppl_full"].toDouble() - greedyPpl) > 1e-6);
    // A budget covering the prompt is lossless on the user text too, in both modes.
    for (const char* mode : {"prefill", "decode"}) {
        const QJsonObject full = run({"--policy", "h2o", "--budget", "1000", "--mode", mode})["metrics"].toObject();
        QVERIFY2(std::abs(full["kl"].toDouble()) < 1e-9, mode);  // decode re-runs step by step: rounding only
        QCOMPARE(full["top1"].toDouble(), 1.0);
        QVERIFY(std::abs(full["ppl"].toDouble() - full["ppl_full"].toDouble()) < 1e-6 * full["ppl_full"].toDouble());
    }
    const clitest::Result missing = cli(QStringList{"kv"} + prompt +
                                        QStringList{"--policy", "h2o", "--budget", "8", "--continuation-file", dir.filePath("none.txt")});
    QVERIFY(missing.code != 0);
    QVERIFY(missing.err.contains("none.txt"));
}

void TestCliKv::badInput() {
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "nope", "--budget", "8"}).code, 2);
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "tova", "--budget", "8", "--window", "4"}).code, 2);
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "snapkv", "--budget", "8", "--mode", "decode"}).code, 2);
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "h2o"}).code, 2);
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "snapkv", "--budget", "8", "--pool", "median"}).code, 2);
}

QTEST_APPLESS_MAIN(TestCliKv)
#include "tst_cli_kv.moc"
