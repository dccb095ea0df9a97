// attnscope-cli a3 on the built-in model: the JSON of issue 18 (ranks as fractions, "r" as
// the kept dimension), full rank exact, the closed form never behind the plain SVD on its own
// objective, the KV bytes arithmetic of every rank, and exit codes for bad input.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>

#include "cli_runner.h"

using clitest::cli;

namespace {

const QStringList kPrompt = {"--prompt", "We the People of the United States, in Order to form a more perfect Union, "
                                         "establish Justice, insure domestic Tranquility, provide for the common "
                                         "defence, promote the general Welfare, and secure the Blessings of Liberty."};

QJsonObject a3(const QStringList& args) { return clitest::cliJson(QStringList{"a3"} + kPrompt + args); }

}  // namespace

class TestCliA3 : public QObject {
    Q_OBJECT
private slots:
    void jsonShapeAndExactness() {
        const QJsonObject j = a3({"--ranks", "0.25,0.5,1", "--baseline", "--a3-rope", "pre_rope"});
        const QJsonArray layers = j["layers"].toArray();
        QVERIFY(!layers.isEmpty());
        QVERIFY(j["held_out_rows"].toInt() > 0 && j["calib_tokens"].toInt() > 0);
        for (const auto& lv : layers) {
            const QJsonObject l = lv.toObject();
            for (const char* c : {"qk", "ov", "mlp"}) {
                const QJsonArray pts = l[c].toArray();
                QCOMPARE(pts.size(), 3);
                const QString err = QLatin1String(c) == QLatin1String("qk") ? "score_err" : "output_err";
                const QJsonObject full = pts[2].toObject();
                QCOMPARE(full["rank"].toDouble(), 1.0);
                QVERIFY2(full[err].toDouble() < 1e-5 && full["objective"].toDouble() < 1e-5, c);
                QCOMPARE(full["params_saved"].toInt(), 0);
                QCOMPARE(full["flops_saved_per_token"].toDouble(), 0.0);
                for (int i = 0; i < 2; ++i) {
                    const QJsonObject p = pts[i].toObject();
                    QVERIFY(p["r"].toInt() >= 1 && p["r"].toInt() < full["r"].toInt());
                    QVERIFY(p["params_saved"].toDouble() > 0);
                    // 2 FLOPs per removed weight, plus (QK, OV) the per-key work of the cut dimensions
                    if (QLatin1String(c) == QLatin1String("mlp"))
                        QCOMPARE(p["flops_saved_per_token"].toDouble(), 2 * p["params_saved"].toDouble());
                    else
                        QVERIFY(p["flops_saved_per_token"].toDouble() > 2 * p["params_saved"].toDouble());
                    QVERIFY(p.contains("baseline_" + err));
                    // QK and OV: the closed form is the optimum of its objective (this model has one
                    // query head per KV head or stacks them: QK exactly, OV on the group mean).
                    if (QLatin1String(c) == QLatin1String("qk"))
                        QVERIFY(p["objective"].toDouble() <= p["baseline_objective"].toDouble() + 1e-9);
                }
            }
        }
        const QJsonObject kv = j["kv_bytes_per_token"].toObject();
        const int bytes = kv["bytes_per_element"].toInt();
        const QJsonArray reduced = kv["reduced"].toArray();
        QCOMPARE(reduced.size(), 3);
        QCOMPARE(reduced[2].toObject()["bytes"].toDouble(), kv["full"].toDouble());
        const QJsonObject half = reduced[1].toObject();
        // L·H_kv·(r_qk + r_vo)·b against 2·L·H_kv·d·b: the ratio is (r_qk + r_vo) / 2d.
        const double d = layers[0].toObject()["qk"].toArray()[2].toObject()["r"].toDouble();
        QCOMPARE(half["bytes"].toDouble() / kv["full"].toDouble(),
                 (half["r_qk"].toDouble() + half["r_vo"].toDouble()) / (2 * d));
        QVERIFY(bytes == 4 || bytes == 2);
    }

    // --apply: the uniform profile written into the weights, against the full model on the
    // held-out positions. At rank 1 nothing changes; at 0.5 the measured key/value dimensions
    // are the profile's ranks and the KV bytes follow from them.
    void applyEndToEnd() {
        const QJsonObject same = a3({"--ranks", "0.5", "--apply", "1", "--continuation", "6"})["end_to_end"].toObject();
        QVERIFY2(same["kl"].toDouble() < 1e-9, qPrintable(QString::number(same["kl"].toDouble())));
        QCOMPARE(same["ppl_reduced"].toDouble(), same["ppl_full"].toDouble());
        QCOMPARE(same["continuation_reduced"].toString(), same["continuation_full"].toString());
        QVERIFY(!same["continuation_full"].toString().isEmpty());

        const QJsonObject j = a3({"--ranks", "0.25", "--apply", "0.5"});
        const QJsonObject e = j["end_to_end"].toObject();
        QVERIFY(e["kl"].toDouble() > 0 && e["ppl_reduced"].toDouble() > 0 && e["tokens"].toInt() > 0);
        QCOMPARE(e["top1"].toDouble() <= 1.0, true);
        const QJsonArray ranks = e["ranks"].toArray(), dims = e["cache_dims"].toArray();
        QCOMPARE(ranks.size(), j["layers"].toArray().size());
        double bytes = 0;
        for (qsizetype l = 0; l < ranks.size(); ++l) {
            const QJsonArray r = ranks[l].toArray(), d = dims[l].toArray();
            QCOMPARE(d[0].toInt(), r[0].toInt());
            QCOMPARE(d[1].toInt(), r[1].toInt());
            bytes += d[0].toDouble() + d[1].toDouble();
        }
        const QJsonObject kv = e["kv_bytes_per_token"].toObject();
        const QJsonObject qk = j["layers"].toArray()[0].toObject()["qk"].toArray().last().toObject();
        const double d = std::round(qk["r"].toDouble() / qk["rank"].toDouble());  // the head dimension
        QCOMPARE(kv["reduced"].toDouble() / kv["full"].toDouble(), bytes / (2.0 * double(ranks.size()) * d));
        QCOMPARE(cli(QStringList{"a3"} + kPrompt + QStringList{"--apply", "0.5", "--apply-epsilon", "0.1"}).code, 2);
        QCOMPARE(cli(QStringList{"a3"} + kPrompt + QStringList{"--apply", "0"}).code, 2);
    }

    void componentFilter() {
        const QJsonObject j = a3({"--ranks", "0.5", "--component", "mlp"});
        const QJsonObject l = j["layers"].toArray()[0].toObject();
        QVERIFY(l.contains("mlp") && !l.contains("qk") && !l.contains("ov"));
    }

    void badInput() {
        QCOMPARE(cli(QStringList{"a3"} + kPrompt + QStringList{"--ranks", "1.5"}).code, 2);
        QCOMPARE(cli(QStringList{"a3"} + kPrompt + QStringList{"--ranks", "half"}).code, 2);
        QCOMPARE(cli(QStringList{"a3"} + kPrompt + QStringList{"--component", "qkv"}).code, 2);
        QCOMPARE(cli(QStringList{"a3"} + kPrompt + QStringList{"--a3-rope", "sideways"}).code, 2);
        QCOMPARE(cli(QStringList{"a3"} + kPrompt + QStringList{"--holdout", "1"}).code, 2);
    }
};

QTEST_APPLESS_MAIN(TestCliA3)
#include "tst_cli_a3.moc"
