// attnscope-cli weibull end to end. The fixtures' weight matrices were drawn from
// N(0, 0.08) (tests/gen/make_fixtures.py), so their |w| is HalfNormal: k near the
// reference's anchor 1.2054 and λ near 0.8875·0.08; names come from the files themselves.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <set>

#include "io/safetensors.h"
#include "cli_runner.h"
#include "test_paths.h"

using clitest::cli;
using clitest::idsArg;
using clitest::Result;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

class TestCliWeibull : public QObject {
    Q_OBJECT
private slots:
    void jsonOfLlamaFixture();
    void csvOfGpt2Fixture();
    void stories260K();
    void badInput();
};

void TestCliWeibull::jsonOfLlamaFixture() {
    const QString dir = testpaths::data("models/llama2");
    const Result r = cli({"weibull", "--model", dir, "--json"});
    QCOMPARE(r.code, 0);
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["protocol"].toString(), QString("exact"));
    QCOMPARE(j["trim"].toString(), QString("mid80"));
    // Every 2-D tensor of the file is listed once, under its own name; the norms are not.
    std::set<std::string> want;
    const auto file = attnscope::io::SafetensorsFile::open((dir + "/model.safetensors").toStdString());
    for (const auto& e : file->tensors())
        if (e.shape.size() == 2) want.insert(e.name);
    const QJsonArray ms = j["matrices"].toArray();
    QCOMPARE(size_t(ms.size()), want.size());
    std::vector<double> ks, lambdas;
    for (const auto& v : ms) {
        const QJsonObject m = v.toObject();
        const std::string name = m["name"].toString().toStdString();
        QVERIFY2(want.erase(name), name.c_str());
        const int layer = m["layer"].toInt();
        const QString comp = m["component"].toString();
        if (name.rfind("model.layers.", 0) == 0) {
            QCOMPARE(layer, std::stoi(name.substr(13)));
            const QString suffix = QString::fromStdString(name).section('.', 4, 4);  // q_proj, gate_proj, ...
            QCOMPARE(comp, suffix.left(suffix.indexOf('_')));
        } else {
            QCOMPARE(layer, -1);
            QCOMPARE(comp, QString(name == "lm_head.weight" ? "lm_head" : "embed"));
        }
        for (const char* key : {"k", "lambda", "r2", "ks", "n", "class"}) QVERIFY(m.contains(key));
        QVERIFY(m["n"].toInteger() >= 1024);
        ks.push_back(m["k"].toDouble());
        lambdas.push_back(m["lambda"].toDouble());
    }
    // 16 HalfNormal matrices of 1024-8192 values: the median k sits within about 0.015
    // (SD) of the anchor, the median λ within a few percent of 0.8875σ.
    QVERIFY2(std::abs(median(ks) - 1.2054) < 0.05, qPrintable(QString::number(median(ks))));
    QVERIFY(std::abs(median(lambdas) / (0.8875 * 0.08) - 1) < 0.05);
}

void TestCliWeibull::csvOfGpt2Fixture() {
    QTemporaryDir tmp;
    const QString csv = tmp.filePath("w.csv");
    const Result r = cli({"weibull", "--model", testpaths::data("models/gpt2"), "--protocol", "hist", "--trim",
                          "mid90", "--csv", csv});
    QCOMPARE(r.code, 0);
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1 + 9);  // header, wte, 2 × (c_attn, c_proj, c_fc, mlp.c_proj)
    const QStringList head = lines[0].split(',');
    QCOMPARE(head.mid(0, 3), (QStringList{"name", "layer", "component"}));
    bool sawQkv = false;
    for (const QString& line : lines.mid(1)) {
        const QStringList c = line.split(',');
        QCOMPARE(c[head.indexOf("protocol")], QString("hist"));
        QCOMPARE(c[head.indexOf("trim")], QString("mid90"));
        if (c[0] == "transformer.h.1.attn.c_attn.weight") {
            sawQkv = true;
            QCOMPARE(c[1], QString("1"));
            QCOMPARE(c[2], QString("qkv"));
            QCOMPARE(c[head.indexOf("shape")], QString("32x96"));  // Conv1D, as stored
        }
        if (c[0] == "transformer.wte.weight") QCOMPARE(c[2], QString("embed"));
    }
    QVERIFY(sawQkv);
}

void TestCliWeibull::stories260K() {
    const QString dir = testpaths::stories260K();
    if (dir.isEmpty()) QSKIP("../shared/models/stories260K is absent");
    const Result r = cli({"weibull", "--model", dir + "/stories260K.bin", "--json", "--subsample", "2000", "--seed", "1"});
    QCOMPARE(r.code, 0);
    const QJsonArray ms = QJsonDocument::fromJson(r.out).object()["matrices"].toArray();
    QCOMPARE(ms.size(), 1 + 5 * 7);
    for (const auto& v : ms) {
        const QJsonObject m = v.toObject();
        QCOMPARE(m["n"].toInteger(), 2000);  // every matrix has more than 2000 nonzero values
        QVERIFY(m["ok"].toBool());
    }
}

void TestCliWeibull::badInput() {
    const QString dir = testpaths::data("models/gpt2");
    Result r = cli({"weibull", "--model", dir, "--protocol", "median"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("exact, hist"));
    r = cli({"weibull", "--model", dir, "--trim", "mid50"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("mid80"));
    r = cli({"weibull", "--model", dir, "--seed", "3"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("--subsample"));
    QCOMPARE(cli({"weibull", "--model", dir, "--subsample", "-1"}).code, 2);
    QVERIFY(cli({"--help"}).out.contains("weibull"));
}

QTEST_APPLESS_MAIN(TestCliWeibull)
#include "tst_cli_weibull.moc"
