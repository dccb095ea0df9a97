// attnscope-cli heads on the built-in model: the JSON the head-roles issue names, the roles
// re-derived here from the printed scores and thresholds, the statistics detectors equal to
// `attnscope-cli stats`, a detector subset, and exit codes for bad input.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>

#include "cli_runner.h"

using clitest::cli;

namespace {

const QStringList kPrompt = {"--prompt", "The cat sat on the mat. The dog sat on the log. The cat sat on the mat."};

const QStringList kDetectors = {"entropy",         "first_token",      "previous_token",     "diagonal",
                                "duplicate_token", "induction",        "induction_repeated", "copying",
                                "select_copy_qk",  "select_copy_attn", "retrieval"};

}  // namespace

class TestCliHeads : public QObject {
    Q_OBJECT
private slots:
    void everyDetectorAndRoles() {
        const QJsonObject j = clitest::cliJson(QStringList{"heads", "--induction-len", "30"} + kPrompt);
        QCOMPARE(j["analysis"].toString(), QStringLiteral("heads"));
        const int L = j["layers"].toInt(), H = j["heads"].toInt();
        QVERIFY(L > 0 && H > 0);
        const QJsonObject det = j["detectors"].toObject(), legend = j["legend"].toObject();
        QCOMPARE(det.keys().size(), kDetectors.size());
        for (const QString& id : kDetectors) {
            const QJsonArray rows = det[id].toArray();
            QCOMPARE(rows.size(), L);
            for (const auto& r : rows) QCOMPARE(r.toArray().size(), H);
        }
        // Not a multiple-choice prompt: the select-and-copy scores are null, and a note says why.
        QVERIFY(det["select_copy_attn"].toArray()[0].toArray()[0].isNull());
        QVERIFY(j["notes"].toObject()["select_copy_attn"].toString().contains("no options"));
        QVERIFY(j["notes"].toObject()["induction_repeated"].toString().contains("30 distinct"));
        // Each head's role: the detector with a role whose score reaches its threshold by the
        // largest ratio, a pattern role before a secondary one (head_scores.h), re-derived from the
        // printed numbers.
        const QJsonArray roles = j["roles"].toArray();
        QCOMPARE(roles.size(), L);
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) {
                QString want;
                for (bool secondary : {false, true}) {
                    double best = 0;
                    for (const QString& id : kDetectors) {
                        const QJsonObject g = legend[id].toObject();
                        const QJsonValue v = det[id].toArray()[l].toArray()[h];
                        if (g["role"].toString().isEmpty() || v.isNull() || g["secondary"].toBool() != secondary)
                            continue;
                        const double t = g["threshold"].toDouble(), x = v.toDouble();
                        if (x >= t && (best == 0 || x / t > best)) {
                            want = g["role"].toString();
                            best = x / t;
                        }
                    }
                    if (!want.isEmpty()) break;
                }
                QCOMPARE(roles[l].toArray()[h].toString(), want);
            }
        // The statistics detectors are the `stats` verb's numbers: first_token = col_mean_causal[0],
        // entropy = the mean row entropy.
        const QJsonObject stats = clitest::cliJson(QStringList{"stats"} + kPrompt);
        const QJsonArray layers = stats["layers"].toArray();
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) {
                const QJsonObject s = layers[l].toObject()["heads"].toArray()[h].toObject();
                QVERIFY(std::abs(det["first_token"].toArray()[l].toArray()[h].toDouble() -
                                 s["col_mean_causal"].toArray()[0].toDouble()) < 1e-6);
                double e = 0;
                const QJsonArray rows = s["entropy"].toArray();
                for (const auto& x : rows) e += x.toDouble();
                QVERIFY(std::abs(det["entropy"].toArray()[l].toArray()[h].toDouble() - e / rows.size()) < 1e-4);
            }
    }

    void subsetAndThresholds() {
        const QJsonObject j = clitest::cliJson(
            QStringList{"heads", "--detector", "previous_token,first_token", "--threshold", "first_token=0"} + kPrompt);
        QCOMPARE(j["detectors"].toObject().keys(), (QStringList{"first_token", "previous_token"}));
        QCOMPARE(j["legend"].toObject()["first_token"].toObject()["threshold"].toDouble(), 0.0);
        // Threshold 0: every head reaches "sink" (ratio infinite), whatever its previous-token score.
        for (const auto& row : j["roles"].toArray())
            for (const auto& r : row.toArray()) QCOMPARE(r.toString(), QStringLiteral("sink"));
    }

    void badInput() {
        const clitest::Result r = cli(QStringList{"heads", "--detector", "nope"} + kPrompt);
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("previous_token"), r.err.constData());
        QCOMPARE(cli(QStringList{"heads", "--rows", "some"} + kPrompt).code, 2);
        QCOMPARE(cli(QStringList{"heads", "--threshold", "entropy=1"} + kPrompt).code, 2);
    }
};

QTEST_GUILESS_MAIN(TestCliHeads)
#include "tst_cli_heads.moc"
