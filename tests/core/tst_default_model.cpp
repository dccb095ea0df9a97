// The shipped default model: its files match the sha256 manifest (made by coreutils'
// sha256sum), every checkpoint of the series opens with the series' tokenizer, and its
// perplexity on a held-out slice is far below a unigram model's.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <map>

#include "attnscope/model.h"
#include "attnscope/tokenizer.h"
#include "test_paths.h"

using namespace attnscope;

namespace {

QString modelDir() { return QStringLiteral(ATTNSCOPE_TEST_DATA_DIR "/../../resources/models/attnscope-tiny"); }

}  // namespace

class TestDefaultModel : public QObject {
    Q_OBJECT
private slots:
    void manifestMatches();
    void seriesOpens();
    void heldOutPerplexityFarBelowUnigram();
};

void TestDefaultModel::manifestMatches() {
    QFile m(modelDir() + "/SHA256SUMS");
    QVERIFY2(m.open(QIODevice::ReadOnly), "resources/models/attnscope-tiny/SHA256SUMS is missing");
    int checked = 0;
    for (const QByteArray& line : m.readAll().split('\n')) {
        if (line.trimmed().isEmpty()) continue;
        const QByteArray want = line.left(64);
        const QString name = QString::fromUtf8(line.mid(66));
        QFile f(modelDir() + "/" + name);
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(name));
        QCryptographicHash h(QCryptographicHash::Sha256);
        QVERIFY(h.addData(&f));
        QVERIFY2(h.result().toHex() == want, qPrintable("sha256 mismatch: " + name));
        ++checked;
    }
    QVERIFY(checked >= 6 * 2);  // at least config + weights of every model of the series
}

void TestDefaultModel::seriesOpens() {
    QFile s(modelDir() + "/series.json");
    QVERIFY(s.open(QIODevice::ReadOnly));
    const QJsonArray series = QJsonDocument::fromJson(s.readAll()).object()["series"].toArray();
    QVERIFY(series.size() >= 5);
    int prevStep = -1;
    for (const auto& v : series) {
        const QJsonObject e = v.toObject();
        QVERIFY(e["step"].toInt() > prevStep);
        prevStep = e["step"].toInt();
        OpenOptions o;
        o.path = QDir(modelDir()).filePath(e["path"].toString()).toStdString();
        auto m = Model::open(o);
        QCOMPARE(m->info().arch, std::string("llama"));
        QCOMPARE(m->info().nLayers, 6);
        QCOMPARE(m->info().nKvHeads, 2);
        QVERIFY2(m->tokenizer(), "a checkpoint must find the series' tokenizer");
        QCOMPARE(m->tokenizer()->vocabSize(), m->info().vocabSize);
    }
}

void TestDefaultModel::heldOutPerplexityFarBelowUnigram() {
    OpenOptions o;
    o.path = modelDir().toStdString();
    auto m = Model::open(o);
    QFile f(testpaths::data("heldout_slice.txt"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const std::vector<int32_t> ids = m->tokenize(f.readAll().toStdString(), true);
    QVERIFY(ids.size() > 300 && int(ids.size()) <= m->info().contextLength);
    const Matrix2D lg = m->run(ids)->logits();
    double nll = 0;
    std::map<int32_t, double> counts;
    for (size_t t = 1; t < ids.size(); ++t) {
        const float* row = lg.data.data() + int64_t(t - 1) * lg.cols;
        const float mx = *std::max_element(row, row + lg.cols);
        double z = 0;
        for (int64_t v = 0; v < lg.cols; ++v) z += std::exp(double(row[v] - mx));
        nll += std::log(z) + mx - row[ids[t]];
        counts[ids[t]] += 1;
    }
    const double n = double(ids.size() - 1);
    // The unigram baseline is fitted on the slice itself: an optimistic baseline.
    double uni = 0;
    for (const auto& [id, c] : counts) uni -= c * std::log(c / n);
    const double ppl = std::exp(nll / n), uniPpl = std::exp(uni / n);
    qInfo("held-out slice: %d tokens, perplexity %.1f, in-sample unigram perplexity %.1f", int(n), ppl, uniPpl);
    QVERIFY2(ppl < 0.25 * uniPpl, qPrintable(QString("perplexity %1 vs unigram %2").arg(ppl).arg(uniPpl)));
}

QTEST_APPLESS_MAIN(TestDefaultModel)
#include "tst_default_model.moc"
