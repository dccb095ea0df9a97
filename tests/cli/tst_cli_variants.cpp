// attnscope-cli variants on the built-in model: the JSON of issue 19, the softmax entry's map
// against `attention --out` (the trace's own tiles), TV = 1 − kept mass for masked softmax
// (reference B), softmax substituted end to end is the model (KL 0, same continuation), and exit
// codes for bad input.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "cli_runner.h"

using clitest::cli;

namespace {

const QStringList kPrompt = {"--prompt", "Four score and seven years ago our fathers brought forth on this continent, "
                                         "a new nation, conceived in Liberty, and dedicated to the proposition that "
                                         "all men are created equal."};

QJsonObject variants(const QStringList& args) { return clitest::cliJson(QStringList{"variants"} + kPrompt + args); }

std::vector<std::vector<double>> readCsv(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    std::vector<std::vector<double>> rows;
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (line.isEmpty()) continue;
        std::vector<double> row;
        for (const QByteArray& cell : line.split(',')) row.push_back(cell.toDouble());
        rows.push_back(row);
    }
    return rows;
}

}  // namespace

class TestCliVariants : public QObject {
    Q_OBJECT
private slots:
    void listsTheRegistry() {
        const clitest::Result r = cli({"variants", "--list"});
        QCOMPARE(r.code, 0);
        for (const char* name :
             {"softmax", "elu_linear", "relu_linear", "nalaformer", "mala", "hedgehog", "window", "dilated", "power",
              "topk", "sea", "routing", "hyper", "sinkhorn", "selective", "affine_scaled", "binary"})
            QVERIFY2(r.out.contains(QByteArray("\n") + name + " ") || r.out.startsWith(QByteArray(name) + " "), name);
    }

    void jsonShapeAndIdentities() {
        const QJsonObject j =
            variants({"--layer", "1", "--variant", "softmax,topk,window", "--param", "k=4", "--param", "window.w=6"});
        QCOMPARE(j["layer"].toInt(), 1);
        const QJsonArray vs = j["variants"].toArray();
        QCOMPARE(vs.size(), 3);
        const int heads = vs[0].toObject()["heads"].toArray().size();
        QVERIFY(heads >= 1);
        for (const auto& value : vs) {
            const QJsonObject v = value.toObject();
            QCOMPARE(v["heads"].toArray().size(), heads);
            for (const auto& hv : v["heads"].toArray()) {
                const QJsonObject h = hv.toObject();
                for (const char* key :
                     {"output_rel_err", "row_kl_mean", "entropy_gap", "cosine", "kept_mass", "effective_rank"})
                    QVERIFY2(h.contains(key), key);
                if (v["name"].toString() == QLatin1String("softmax")) {
                    QCOMPARE(h["output_rel_err"].toDouble(), 0.0);
                    QCOMPARE(h["row_kl_mean"].toDouble(), 0.0);
                } else {  // a masked, renormalised softmax: TV to softmax is the mass it drops, row by row
                    QVERIFY(std::abs(h["row_tv_mean"].toDouble() - (1 - h["kept_mass"].toDouble())) < 1e-9);
                    QVERIFY(h["kept_mass"].toDouble() < 1 && h["output_rel_err"].toDouble() > 0);
                }
            }
        }
        QCOMPARE(vs[1].toObject()["params"].toObject()["k"].toDouble(), 4.0);
        QCOMPARE(vs[2].toObject()["params"].toObject()["w"].toDouble(), 6.0);
        QVERIFY(!vs[2].toObject()["params"].toObject().contains("k"));
        QVERIFY(!vs[0].toObject().contains("end_to_end"));
    }

    // The softmax entry's map is the model's attention: the same T x T CSV as `attention --out`.
    void softmaxMapIsTheAttentionCsv() {
        QTemporaryDir dir;
        const QString mine = dir.filePath("v.csv"), theirs = dir.filePath("a.csv");
        QCOMPARE(cli(QStringList{"variants"} + kPrompt +
                     QStringList{"--layer", "1", "--head", "1", "--variant", "softmax", "--out", mine})
                     .code,
                 0);
        QCOMPARE(
            cli(QStringList{"attention"} + kPrompt + QStringList{"--layer", "1", "--head", "1", "--out", theirs}).code,
            0);
        const auto a = readCsv(mine), b = readCsv(theirs);
        QVERIFY(!a.empty());
        QCOMPARE(a.size(), b.size());
        double worst = 0;
        for (size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].size(), b[i].size());
            for (size_t k = 0; k < a[i].size(); ++k) worst = std::max(worst, std::abs(a[i][k] - b[i][k]));
        }
        QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
        QVERIFY(!QFile::exists(mine + ".tmp"));
    }

    void softmaxEndToEndIsTheModel() {
        const QJsonObject j =
            variants({"--layer", "0", "--variant", "softmax,elu_linear", "--substitute", "--continuation", "5"});
        const QJsonArray vs = j["variants"].toArray();
        QCOMPARE(vs.size(), 2);
        const QJsonObject same = vs[0].toObject()["end_to_end"].toObject(),
                          lin = vs[1].toObject()["end_to_end"].toObject();
        QVERIFY2(same["kl_mean"].toDouble() < 1e-9, qPrintable(QString::number(same["kl_mean"].toDouble())));
        QVERIFY(std::abs(same["ppl_delta"].toDouble()) < 1e-6 * same["ppl_original"].toDouble());
        QCOMPARE(same["continuation"].toArray(), same["continuation_original"].toArray());
        QCOMPARE(same["continuation"].toArray().size(), 5);
        QCOMPARE(same["kl"].toArray().size(), j["tokens"].toInt());
        QVERIFY(lin["kl_mean"].toDouble() > 1e-6);  // linear attention does change the model
        double sum = 0;
        for (const auto& v : lin["kl"].toArray()) sum += v.toDouble();
        QVERIFY(std::abs(sum / lin["kl"].toArray().size() - lin["kl_mean"].toDouble()) < 1e-12);
    }

    void badInput() {
        QCOMPARE(cli(QStringList{"variants"} + kPrompt + QStringList{"--variant", "softmaxx"}).code, 2);
        QCOMPARE(cli(QStringList{"variants"} + kPrompt + QStringList{"--variant", "topk", "--param", "w=3"}).code, 2);
        QCOMPARE(cli(QStringList{"variants"} + kPrompt + QStringList{"--variant", "topk", "--param", "k=0"}).code, 2);
        QCOMPARE(cli(QStringList{"variants"} + kPrompt + QStringList{"--variant", "topk", "--out", "/tmp/x.csv"}).code,
                 2);
        QCOMPARE(cli(QStringList{"variants"} + kPrompt + QStringList{"--layer", "999", "--variant", "topk"}).code, 2);
        const clitest::Result r = cli(QStringList{"variants"} + kPrompt + QStringList{"--variant", "nonesuch"});
        QVERIFY(r.err.contains("elu_linear"));  // the message lists the known variants
    }
};

QTEST_APPLESS_MAIN(TestCliVariants)
#include "tst_cli_variants.moc"
