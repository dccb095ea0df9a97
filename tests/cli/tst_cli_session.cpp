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
// KV: A = H2O at B = 8 on an 8-token greedy continuation, B = StreamingLLM; a small sweep.
const QStringList kKvOptions = {"--policy", "h2o", "--budget", "8", "--continuation", "8"};
const QStringList kSweepOptions = {"--compare", "streaming_llm", "--policies", "h2o,tova,streaming_llm", "--budgets", "4,8,16"};

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
    void kvSectionHoldsWhatKvComputes();
    void quantSectionHoldsWhatQuantComputes();
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
    const Result r = cli(QStringList{"session", "--out", m_session, "--layer", "1", "--head", "2"} + kPrompt + kKvOptions +
                         kSweepOptions);
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

void TestCliSession::kvSectionHoldsWhatKvComputes() {
    const Session s = loadSession(m_session.toStdString());
    QVERIFY(s.panels.count("kv"));
    const KvSection k = decodeKv(s.panels.at("kv"));
    QCOMPARE(k.params.policy, std::string("h2o"));
    QCOMPARE(k.params.budget, int64_t(8));
    QCOMPARE(k.selection.promptLength, int64_t(s.tokenIds.size()));
    QCOMPARE(k.selection.T, k.selection.promptLength + 8);
    QCOMPARE(int64_t(k.tokens.ids.size()), k.selection.T);
    QVERIFY(std::equal(s.tokenIds.begin(), s.tokenIds.end(), k.tokens.ids.begin()));
    // The decision and its cost as `kv --json` reports them.
    const Result r = cli(QStringList{"kv", "--json"} + kPrompt + kKvOptions);
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(QString::fromStdString(k.selection.policy), j["policy"].toString());
    const QJsonArray layers = j["layers"].toArray();
    QCOMPARE(int(layers.size()), k.selection.nLayers);
    for (int l = 0; l < k.selection.nLayers; ++l) {
        const QJsonArray heads = layers[l].toObject()["heads"].toArray();
        QCOMPARE(int(heads.size()), k.selection.heads);
        for (int h = 0; h < k.selection.heads; ++h) {
            std::vector<int64_t> kept;
            for (const QJsonValue v : heads[h].toObject()["kept"].toArray()) kept.push_back(v.toInteger());
            QVERIFY(kept == k.selection.kept[size_t(l)][size_t(h)]);
        }
    }
    const QJsonObject m = j["metrics"].toObject();
    QVERIFY(k.hasEndToEnd);
    QVERIFY(std::abs(k.endToEnd.kl - m["kl"].toDouble()) <= 1e-9 * std::max(1.0, std::abs(k.endToEnd.kl)));
    QCOMPARE(k.endToEnd.top1, m["top1"].toDouble());
    QVERIFY(std::abs(k.metrics.retainedMass - m["retained_mass"].toDouble()) < 1e-9);
    QVERIFY(k.endToEnd.kl > 0);  // B = 8 of ~20 prompt tokens loses something
    // B: StreamingLLM keeps the first 4 and the last 4 prompt tokens in every layer (reference §2.1).
    QVERIFY(k.hasCompare);
    const int64_t Tp = k.selection.promptLength;
    for (const auto& layer : k.compare.kept)
        for (const auto& head : layer) QVERIFY((head == std::vector<int64_t>{0, 1, 2, 3, Tp - 4, Tp - 3, Tp - 2, Tp - 1}));
    // The sweep as `kv-sweep --json` computes it.
    const Result sw = cli(QStringList{"kv-sweep", "--json"} + kPrompt + QStringList{"--continuation", "8"} +
                          kSweepOptions.mid(2));
    QVERIFY2(sw.code == 0, sw.err.constData());
    const QJsonArray rows = QJsonDocument::fromJson(sw.out).object()["rows"].toArray();
    QCOMPARE(int(k.sweep.size()), int(rows.size()));
    QCOMPARE(int(rows.size()), 9);
    for (int i = 0; i < rows.size(); ++i) {
        const QJsonObject row = rows[i].toObject();
        QCOMPARE(QString::fromStdString(k.sweep[size_t(i)].policy), row["policy"].toString());
        QCOMPARE(k.sweep[size_t(i)].budget, int64_t(row["budget"].toInteger()));
        QVERIFY(std::abs(k.sweep[size_t(i)].kl - row["kl"].toDouble()) <= 1e-9 * std::max(1.0, row["kl"].toDouble()));
    }
}

void TestCliSession::quantSectionHoldsWhatQuantComputes() {
    const Session s = loadSession(m_session.toStdString());
    QVERIFY(s.panels.count("quant"));
    const QuantSection q = decodeQuant(s.panels.at("quant"));
    QCOMPARE(q.rank, 32);
    QCOMPARE(q.methodA, std::string("none"));
    QCOMPARE(q.methodB, std::string("qera-exact"));
    // quantizeModel's per-matrix errors at rank 32 (another code path than the rank tables).
    const Result r = cli(QStringList{"quant", "--recon", "qera-exact", "--rank", "32", "--no-eval", "--json"} + kPrompt);
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonArray mats = QJsonDocument::fromJson(r.out).object()["matrices"].toArray();
    QCOMPARE(int(q.matrices.size()), int(mats.size()));
    for (int i = 0; i < mats.size(); ++i) {
        const QJsonObject x = mats[i].toObject();
        QCOMPARE(QString::fromStdString(q.matrices[size_t(i)].name), x["name"].toString());
        const double quantOnly = q.quantOnly[size_t(i)].outputRelErr, want = x["output_rel_err_quant"].toDouble();
        QVERIFY2(std::abs(quantOnly - want) <= 1e-5 * want, qPrintable(x["name"].toString()));
        const ReconCurve* exact = nullptr;
        for (const ReconCurve& c : q.curves[size_t(i)])
            if (c.method == ReconMethod::QeraExact) exact = &c;
        QVERIFY(exact && exact->outputRelErr.size() > 32);
        QVERIFY2(std::abs(exact->outputRelErr[32] - x["output_rel_err"].toDouble()) <= 1e-4 * want,
                 qPrintable(QStringLiteral("%1: %2 vs %3").arg(x["name"].toString()).arg(exact->outputRelErr[32]).arg(x["output_rel_err"].toDouble())));
    }
}

void TestCliSession::listFigures() {
    const Result r = cli({"export", "--list-figures"});
    if (r.code == 2 && r.err.contains("unavailable")) QSKIP("attnscope-cli was built without Qt");
    QVERIFY2(r.code == 0, r.err.constData());
    for (const QString& line : QString::fromUtf8(r.out).split('\n', Qt::SkipEmptyParts))
        m_figures << line.section(' ', 0, 0);
    for (const char* n : {"attention-map", "head-grid", "sink-map", "sink-levels", "weibull-k-map", "weibull-probability",
                          "kv-keep-map", "kv-budget-sweep", "quant-error-bars", "quant-error-vs-rank"})
        QVERIFY2(m_figures.contains(QLatin1String(n)), n);
}

void TestCliSession::exportEveryFigure() {
    if (m_figures.isEmpty()) QSKIP("no figure list");
    const QString out = m_dir.filePath("figs");
    const Result r = cli({"export", "--all", "--session", m_session, "--out-dir", out, "--formats", "png,svg,pdf",
                          "--width", "500", "--height", "360", "--dpi", "96", "--style", "print"});
    QVERIFY2(r.code == 0, r.err.constData());
    // The sections a default session leaves out (they need inputs of their own): an ablation and a
    // patching map (the best/worst swap keeps the token count).
    const QString extra = m_dir.filePath("extra.attnscope");
    const Result e = cli(QStringList{"session", "--out", extra, "--panels", "intervene,patch", "--ablate", "mlp",
                                     "--layer", "1", "--tokens", "3", "--corrupt-prompt",
                                     "It was the worst of times, it was the best of times, it was the age of wisdom.",
                                     "--answer", " wisdom", "--wrong", " times"} +
                         kPrompt);
    QVERIFY2(e.code == 0, e.err.constData());
    const Result r2 = cli({"export", "--all", "--session", extra, "--out-dir", out, "--formats", "png,svg,pdf",
                           "--width", "500", "--height", "360", "--dpi", "96", "--style", "print"});
    QVERIFY2(r2.code == 0, r2.err.constData());
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
