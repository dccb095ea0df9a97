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

QJsonObject kv(const QStringList& args) {
    const clitest::Result r = cli(QStringList{"kv"} + kPrompt + args + QStringList{"--json"});
    if (r.code != 0) qWarning("exit %d: %s", r.code, r.err.constData());
    return QJsonDocument::fromJson(r.out).object();
}

}  // namespace

class TestCliKv : public QObject {
    Q_OBJECT
private slots:
    void jsonShape();
    void snapkvGqaHeadsAreKvHeads();
    void fullBudgetIsLossless();
    void decodeMode();
    void sweepCsv();
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

void TestCliKv::badInput() {
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "nope", "--budget", "8"}).code, 2);
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "tova", "--budget", "8", "--window", "4"}).code, 2);
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "snapkv", "--budget", "8", "--mode", "decode"}).code, 2);
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "h2o"}).code, 2);
    QCOMPARE(cli(QStringList{"kv"} + kPrompt + QStringList{"--policy", "snapkv", "--budget", "8", "--pool", "median"}).code, 2);
}

QTEST_APPLESS_MAIN(TestCliKv)
#include "tst_cli_kv.moc"
