// attnscope-cli session and export end to end on the built-in model: the session file
// loads and holds what the single-purpose verbs compute (attention maps vs `attention`,
// sink classes vs `sinks --json`); every registered figure exports offscreen to PNG, SVG
// and PDF with the expected size and page count; bad input exits 2 with a message.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QtEndian>
#include <QtTest>

#include "attnscope/session.h"
#include "attnscope/session_codecs.h"
#include "cli_runner.h"

using namespace attnscope;
using clitest::cli;
using clitest::Result;

namespace {

const QStringList kPrompt = {"--prompt", "It was the best of times, it was the worst of times, it was the age of wisdom."};

QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Width and height from a PNG's IHDR chunk (CLI tests link Qt Core only); (-1, -1) if not a PNG.
QSize pngSize(const QString& path) {
    const QByteArray b = readFile(path);
    if (b.size() < 24 || !b.startsWith("\x89PNG\r\n\x1a\n") || b.mid(12, 4) != "IHDR") return {-1, -1};
    return {qFromBigEndian<qint32>(b.constData() + 16), qFromBigEndian<qint32>(b.constData() + 20)};
}

}  // namespace

class TestCliSession : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void sessionHoldsWhatTheVerbsCompute();
    void listFigures();
    void exportEveryFigure();
    void exportComputesItsOwnSession();
    void badInput();

private:
    QTemporaryDir m_dir;
    QString m_session;
    QStringList m_figures;
};

void TestCliSession::initTestCase() {
    m_session = m_dir.filePath("run.attnscope");
    const Result r = cli(QStringList{"session", "--out", m_session, "--layer", "1", "--head", "2"} + kPrompt);
    if (r.code == 2 && r.err.contains("no built-in default model")) QSKIP("the built-in model is not installed");
    QVERIFY2(r.code == 0, r.err.constData());
}

void TestCliSession::sessionHoldsWhatTheVerbsCompute() {
    const Session s = loadSession(m_session.toStdString());
    QCOMPARE(s.view.layer, 1);
    QCOMPARE(s.view.head, 2);
    QVERIFY(!s.tokenIds.empty());
    QCOMPARE(s.tokenPieces.size(), s.tokenIds.size());
    QCOMPARE(QString::fromStdString(s.model.sha256), QString::fromStdString(sessionModelFingerprint(s.model.path)));
    QVERIFY(checkSessionModel(s.model) == SessionModelMatch::Match);
    for (const char* p : {"attention", "heads", "sinks", "weibull"}) QVERIFY2(s.panels.count(p), p);

    // Stored map of layer 1, head 2 == `attention --layer 1 --head 2` (exact, T <= 256).
    const AttentionSection a = decodeAttention(s.panels.at("attention"));
    const StoredAttentionMap* m = a.find(1, 2);
    QVERIFY(m);
    const int64_t T = int64_t(s.tokenIds.size());
    QCOMPARE(m->matrix.rows, T);
    const QString csv = m_dir.filePath("a.csv");
    const Result r = cli(QStringList{"attention", "--layer", "1", "--head", "2", "--out", csv} + kPrompt);
    QVERIFY2(r.code == 0, r.err.constData());
    const QStringList rows = QString::fromUtf8(readFile(csv)).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(rows.size(), int(T));
    for (int64_t i = 0; i < T; ++i) {
        const QStringList cells = rows[int(i)].split(',');
        QCOMPARE(cells.size(), int(T));
        for (int64_t j = 0; j < T; ++j) QVERIFY(std::abs(cells[int(j)].toDouble() - m->matrix.at(i, j)) < 1e-6);
    }
    // Every layer x (mean + heads) is stored for a short prompt.
    QCOMPARE(int(a.maps.size()), a.nLayers * (a.nHeads + 1));

    // Sinks: the same primary and the same classes as `sinks --json`.
    const SinksSection k = decodeSinks(s.panels.at("sinks"), s.tokenIds);
    const Result sj = cli(QStringList{"sinks", "--json"} + kPrompt);
    QVERIFY2(sj.code == 0, sj.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(sj.out).object();
    QCOMPARE(k.result.primary, int64_t(j["primary"].toInteger()));
    const QJsonArray sinks = j["sinks"].toArray();
    QCOMPARE(int(k.result.sinks.size()), int(sinks.size()));
    for (int i = 0; i < sinks.size(); ++i) {
        QCOMPARE(k.result.sinks[size_t(i)].token, int64_t(sinks[i].toObject()["token"].toInteger()));
        QCOMPARE(k.result.sinks[size_t(i)].lifetime, sinks[i].toObject()["lifetime"].toInt());
    }
    QVERIFY(k.hasInputs);
    QCOMPARE(k.inputs.T, T);

    // Weibull: every matrix of `weibull --json`, same k.
    const WeibullSection w = decodeWeibull(s.panels.at("weibull"));
    const Result wj = cli({"weibull", "--json"});
    QVERIFY2(wj.code == 0, wj.err.constData());
    const QJsonArray mats = QJsonDocument::fromJson(wj.out).object()["matrices"].toArray();
    QCOMPARE(int(w.fits.size()), int(mats.size()));
    for (int i = 0; i < mats.size(); ++i) {
        QCOMPARE(QString::fromStdString(w.fits[size_t(i)].name), mats[i].toObject()["name"].toString());
        QCOMPARE(w.fits[size_t(i)].fit.k, mats[i].toObject()["k"].toDouble());
    }
    QVERIFY(w.hasPlot && !w.plot.lnAbs.empty());
}

void TestCliSession::listFigures() {
    const Result r = cli({"export", "--list-figures"});
    if (r.code == 2 && r.err.contains("unavailable")) QSKIP("attnscope-cli was built without Qt");
    QVERIFY2(r.code == 0, r.err.constData());
    for (const QString& line : QString::fromUtf8(r.out).split('\n', Qt::SkipEmptyParts))
        m_figures << line.section(' ', 0, 0);
    for (const char* n : {"attention-map", "head-grid", "sink-map", "sink-levels", "weibull-k-map", "weibull-probability"})
        QVERIFY2(m_figures.contains(QLatin1String(n)), n);
}

void TestCliSession::exportEveryFigure() {
    if (m_figures.isEmpty()) QSKIP("no figure list");
    const QString out = m_dir.filePath("figs");
    const Result r = cli({"export", "--all", "--session", m_session, "--out-dir", out, "--formats", "png,svg,pdf",
                          "--width", "500", "--height", "360", "--dpi", "96", "--style", "print"});
    QVERIFY2(r.code == 0, r.err.constData());
    for (const QString& f : m_figures) {
        QCOMPARE(pngSize(out + "/" + f + ".png"), QSize(500, 360));
        const QByteArray svg = readFile(out + "/" + f + ".svg");
        QVERIFY2(svg.contains("<svg") && svg.contains("viewBox=\"0 0 500 360\""), qPrintable(f));
        const QByteArray pdf = readFile(out + "/" + f + ".pdf");
        QVERIFY2(pdf.startsWith("%PDF-"), qPrintable(f));
        static const QRegularExpression page(QStringLiteral("/Type\\s*/Page(?!s)"));
        int pages = 0;
        for (auto it = page.globalMatch(QString::fromLatin1(pdf)); it.hasNext(); it.next()) ++pages;
        QCOMPARE(pages, 1);
    }
}

void TestCliSession::exportComputesItsOwnSession() {
    if (m_figures.isEmpty()) QSKIP("no figure list");
    const QString png = m_dir.filePath("map.png");
    const Result r = cli(QStringList{"export", "--figure", "attention-map", "--layer", "2", "--head", "-1", "--out", png,
                                     "--dpi", "192", "--width", "400", "--height", "400"} + kPrompt);
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(pngSize(png), QSize(800, 800));
}

void TestCliSession::badInput() {
    if (m_figures.isEmpty()) QSKIP("no figure list");
    Result r = cli({"export", "--figure", "no-such", "--out", m_dir.filePath("x.png"), "--session", m_session});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("unknown figure"));
    r = cli({"export", "--figure", "head-grid", "--out", m_dir.filePath("x.bmp"), "--session", m_session});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains(".png, .svg, .pdf or .csv"));
    r = cli(QStringList{"session"} + kPrompt);
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("--out"));
    QFile bad(m_dir.filePath("bad.attnscope"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write(readFile(m_session).left(300));
    bad.close();
    r = cli({"export", "--figure", "head-grid", "--out", m_dir.filePath("y.png"), "--session", bad.fileName()});
    QCOMPARE(r.code, 2);
    QVERIFY(!QFile::exists(m_dir.filePath("y.png")));
}

QTEST_GUILESS_MAIN(TestCliSession)
#include "tst_cli_session.moc"
