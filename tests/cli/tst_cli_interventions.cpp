// attnscope-cli intervene, patch and logit-lens on the built-in model: the JSON they print, the
// identities they must keep (causality of an ablation, scale 1 reproducing the run, the whole
// last-layer residual restoring the clean logit difference, the last layer's lens being the
// output), and exit code 2 for bad input.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>

#include "cli_runner.h"

using clitest::cli;
using clitest::cliJson;

namespace {

const QString kText = QStringLiteral("The old man walked to the market, and the old man bought bread for his family.");

}  // namespace

class TestCliInterventions : public QObject {
    Q_OBJECT
private slots:
    void ablateMlp() {
        const QJsonObject j =
            cliJson({"intervene", "--prompt", kText, "--ablate", "mlp", "--layer", "1", "--tokens", "4,5"});
        QCOMPARE(j["kind"].toString(), QStringLiteral("ablation"));
        const QJsonArray kl = j["kl"].toArray();
        QCOMPARE(kl.size(), j["tokens"].toInt());
        for (int t = 0; t < 4; ++t) QCOMPARE(kl[t].toDouble(), 0.0);  // nothing before the ablated tokens changes
        QVERIFY(kl[4].toDouble() > 0 || kl[5].toDouble() > 0);
        QVERIFY(j["sinks"].toArray().size() >= 1);
        QCOMPARE(j["logit_delta"].toArray().size(), kl.size());
    }

    void sinkTest() {
        const QJsonObject j = cliJson({"intervene", "--prompt", kText, "--sink-test", "auto"});
        QCOMPARE(j["kind"].toString(), QStringLiteral("sink_test"));
        bool one = false;
        for (const auto& v : j["rows"].toArray()) {
            const QJsonObject r = v.toObject();
            if (r["mode"].toString() == QLatin1String("scale") && r["scale"].toDouble() == 1.0) {
                one = true;
                QCOMPARE(r["mean_kl"].toDouble(), 0.0);
                QCOMPARE(r["score_before"].toArray(), r["score_after"].toArray());
            }
        }
        QVERIFY(one);
    }

    void patchResidual() {
        const QJsonObject j = cliJson({"patch", "--clean-prompt", "The cat sat on the mat and the dog sat on the",
                                       "--corrupt-prompt", "The dog sat on the mat and the cat sat on the", "--answer",
                                       " mat", "--wrong", " log", "--what", "resid"});
        const QJsonArray rows = j["normalized"].toArray();
        QCOMPARE(rows.size(), j["layers"].toInt());
        const QJsonArray last = rows.last().toArray();
        QCOMPARE(last.size(), j["tokens"].toInt());
        if (!j["undefined"].toBool()) QVERIFY(std::abs(last.last().toDouble() - 1.0) < 1e-4);
        const clitest::Result bad = cli({"patch", "--clean-prompt", "one two three", "--corrupt-prompt", "one two",
                                         "--answer", "a", "--wrong", "b"});
        QCOMPARE(bad.code, 2);
        QVERIFY2(bad.err.contains("same length"), bad.err.constData());
    }

    void logitLens() {
        const QJsonObject j = cliJson({"logit-lens", "--prompt", kText, "--top-k", "3", "--target", " bread"});
        const QJsonArray layers = j["layers_view"].toArray();
        QCOMPARE(layers.size(), j["layers"].toInt());
        for (const auto& p : layers.last().toArray()) {
            const QJsonObject e = p.toObject();
            QCOMPARE(e["top"].toArray().size(), 3);
            QVERIFY(e["kl_to_final"].toDouble() < 1e-6);
            QCOMPARE(e["final_rank"].toInt(), 0);
            QVERIFY(e.contains("target_prob"));
        }
        QVERIFY(!j["pieces"].toObject().isEmpty());
    }

    void badInput() {
        QCOMPARE(cli({"intervene", "--prompt", kText, "--ablate", "everything"}).code, 2);
        QCOMPARE(cli({"intervene", "--prompt", kText, "--layer", "99"}).code, 2);
        QCOMPARE(cli({"logit-lens", "--prompt", kText, "--top-k", "0"}).code, 2);
    }
};

QTEST_GUILESS_MAIN(TestCliInterventions)
#include "tst_cli_interventions.moc"
