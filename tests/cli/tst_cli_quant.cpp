// attnscope-cli quant and kvquant end to end on the built-in model. References: the
// model's weights through Model::weightMatrix with the rtn-sym formula written out here,
// the model's own perplexity from Model::run logits, and the JSON layout.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "attnscope/model.h"
#include "test_paths.h"

using namespace attnscope;

namespace {

struct Run {
    int code = -1;
    QByteArray out, err;
};

Run cli(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(ATTNSCOPE_CLI_PATH), args);
    p.waitForFinished(600000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
}

QString modelDir() { return testpaths::data("../../resources/models/attnscope-tiny"); }
QString heldout() { return testpaths::data("heldout_slice.txt"); }

// rtn-sym per output row, 4 bits, as the RSQ WeightQuantizer computes it (float32).
double rtnSymRelErr(const Matrix2D& w) {
    double e2 = 0, w2 = 0;
    for (int64_t r = 0; r < w.rows; ++r) {
        float amax = 0;
        for (int64_t c = 0; c < w.cols; ++c) amax = std::max(amax, std::fabs(w.at(r, c)));
        const float s = std::max(amax, 1e-5f) / 7.f;
        for (int64_t c = 0; c < w.cols; ++c) {
            const float q = s * std::clamp(std::nearbyint(w.at(r, c) / s), -8.f, 7.f);
            e2 += std::pow(double(q) - w.at(r, c), 2);
            w2 += std::pow(double(w.at(r, c)), 2);
        }
    }
    return std::sqrt(e2 / w2);
}

}  // namespace

class TestCliQuant : public QObject {
    Q_OBJECT
private slots:
    void quantJson();
    void quantWithReconstruction();
    void kvquantJson();
    void badInput();
};

void TestCliQuant::quantJson() {
    const Run r = cli({"quant", "--model", modelDir(), "--prompt-file", heldout(), "--window", "256", "--scheme",
                       "rtn-sym", "--bits", "4", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    const QJsonArray ms = j["matrices"].toArray();
    QCOMPARE(ms.size(), 42);
    const auto model = Model::open({modelDir().toStdString(), "", Device::CPU, DType::F32});
    for (const auto& v : ms) {
        const QJsonObject m = v.toObject();
        for (const char* key : {"name", "layer", "component", "weight_rel_err", "output_rel_err"}) QVERIFY(m.contains(key));
        const std::string name = m["name"].toString().toStdString();
        QCOMPARE(m["layer"].toInt(), std::stoi(name.substr(13)));
        const double want = rtnSymRelErr(model->weightMatrix(name));
        QVERIFY2(std::fabs(m["weight_rel_err"].toDouble() / want - 1) < 1e-5, name.c_str());
        QVERIFY(m["output_rel_err"].toDouble() > 0 && m["output_rel_err"].toDouble() < 1);
    }
    QVERIFY(j["ppl_fp"].toDouble() > 5 && j["ppl_fp"].toDouble() < 100);  // README: 21.6 on the whole slice
    QVERIFY(j["ppl"].toDouble() > j["ppl_fp"].toDouble() * 0.95);
    QVERIFY(j["kl"].toDouble() > 0 && j["kl"].toDouble() < 1);
}

void TestCliQuant::quantWithReconstruction() {
    const QStringList base = {"quant", "--model", modelDir(), "--prompt-file", heldout(), "--window", "256",
                              "--scheme", "mxint", "--bits", "3", "--no-eval", "--json"};
    const Run plain = cli(base);
    const Run qera = cli(base + QStringList{"--recon", "qera-exact", "--rank", "32"});
    QVERIFY2(plain.code == 0 && qera.code == 0, qera.err.constData());
    const QJsonArray a = QJsonDocument::fromJson(plain.out).object()["matrices"].toArray();
    const QJsonObject jq = QJsonDocument::fromJson(qera.out).object();
    QCOMPARE(jq["recon"].toString(), QString("qera-exact"));
    QVERIFY(!jq.contains("ppl"));
    const QJsonArray b = jq["matrices"].toArray();
    QCOMPARE(a.size(), b.size());
    for (int i = 0; i < a.size(); ++i) {
        const QJsonObject x = a[i].toObject(), y = b[i].toObject();
        QCOMPARE(y["output_rel_err_quant"].toDouble(), x["output_rel_err"].toDouble());
        QVERIFY(y["output_rel_err"].toDouble() < x["output_rel_err"].toDouble());
    }
}

void TestCliQuant::kvquantJson() {
    for (const char* method : {"kivi", "hadamard", "oscar", "zipcache-mixed", "sage"}) {
        const Run r = cli({"kvquant", "--model", modelDir(), "--prompt-file", heldout(), "--method", method, "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        const QJsonArray layers = j["layers"].toArray();
        QCOMPARE(layers.size(), 6);
        const int T = j["tokens"].toInt();
        QVERIFY(T > 600);
        for (const auto& l : layers) {
            const QJsonArray heads = l.toObject()["heads"].toArray();
            QCOMPARE(heads.size(), 8);
            for (const auto& h : heads)
                for (const char* key : {"score_rel_err", "kl_mean", "out_rel_err"}) QVERIFY(h.toObject()[key].toDouble() >= 0);
            QCOMPARE(l.toObject()["token_key_share"].toArray().size(), T);
        }
        if (QString(method) == "oscar")  // 64 BF16 sink + 256 recent tokens
            QCOMPARE(j["bits_k"].toDouble(), ((T - 320) * (2 + 32.0 / 32) + 16.0 * 320) / T);
    }
}

void TestCliQuant::badInput() {
    QCOMPARE(cli({"quant", "--model", modelDir(), "--prompt", "a b", "--bits", "1"}).code, 2);
    QCOMPARE(cli({"quant", "--model", modelDir(), "--prompt", "a b", "--scheme", "int5"}).code, 2);
    QCOMPARE(cli({"quant", "--model", modelDir(), "--prompt", "a b", "--recon", "lorc"}).code, 2);
    QCOMPARE(cli({"kvquant", "--model", modelDir(), "--prompt", "a b", "--method", "gear"}).code, 2);
    QCOMPARE(cli({"kvquant", "--model", modelDir(), "--prompt", "a b", "--method", "sage", "--bits", "6"}).code, 2);
}

QTEST_APPLESS_MAIN(TestCliQuant)
#include "tst_cli_quant.moc"
