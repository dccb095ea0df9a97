// Sessions in the real main window (offscreen): opening restores every panel from stored
// results with the model absent, a changed model is reported as a mismatch (and not
// loaded), a matching model goes live again, a corrupt file or section changes nothing,
// and what the window saves back is bit-identical to what it was given.
#include <QDir>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QtTest>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "analysis_docks.h"
#include "app_window_support.h"
#include "attnscope/analyses/sink_scatter.h"
#include "attnscope/session.h"
#include "attnscope/session_codecs.h"
#include "main_window.h"
#include "panels/attention_maps_panel.h"
#include "panels/head_grid_panel.h"
#include "panels/sinks_panel.h"
#include "panels/weibull_panel.h"
#include "plot/matrix_plot.h"
#include "plot/sink_scatter_plot.h"
#include "session_controller.h"
#include "token_strip.h"
#include "synthetic_session.h"
#include "test_models.h"

using namespace attnscope;
using attnscope::app::MainWindow;
using sessiontest::syntheticSession;

namespace {

bool sameTensors(const SessionSection& a, const SessionSection& b) {
    if (a.tensors.size() != b.tensors.size()) return false;
    for (const auto& [name, t] : a.tensors) {
        auto it = b.tensors.find(name);
        if (it == b.tensors.end() || it->second.bytes != t.bytes || it->second.shape != t.shape) return false;
    }
    return true;
}

// Bit for bit, so that the NaNs of empty cells compare equal.
bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Everything the sinks panel draws from, compared exactly (floats bit for bit).
void compareSinkResults(const SinkResult& a, const SinkResult& b) {
    QCOMPARE(a.T, b.T);
    QCOMPARE(a.nLayers, b.nLayers);
    QCOMPARE(a.primary, b.primary);
    QCOMPARE(a.onset, b.onset);
    QCOMPARE(a.offset, b.offset);
    QCOMPARE(int(a.rule), int(b.rule));
    QCOMPARE(a.layers.size(), b.layers.size());
    for (size_t l = 0; l < a.layers.size(); ++l) {
        const SinkLayer &x = a.layers[l], &y = b.layers[l];
        QVERIFY(x.sinkScore == y.sinkScore && x.fracHeads == y.fracHeads && x.cosToPrimary == y.cosToPrimary);
        QVERIFY(x.hiddenNorm == y.hiddenNorm && x.mlpCosToPrimary == y.mlpCosToPrimary && x.mlpNorm == y.mlpNorm);
        QVERIFY(x.flagged == y.flagged && x.massive == y.massive);
        QCOMPARE(x.primaryStrength, y.primaryStrength);
        QCOMPARE(x.weakening, y.weakening);
        QCOMPARE(x.secondaryCreated, y.secondaryCreated);
    }
    QCOMPARE(a.sinks.size(), b.sinks.size());
    for (size_t i = 0; i < a.sinks.size(); ++i) {
        const SinkToken &x = a.sinks[i], &y = b.sinks[i];
        QCOMPARE(x.token, y.token);
        QCOMPARE(int(x.cls), int(y.cls));
        QVERIFY(x.layers == y.layers);
        QCOMPARE(x.creationLayer, y.creationLayer);
        QCOMPARE(x.meanScore, y.meanScore);
        QCOMPARE(x.mlpNormAtCreation, y.mlpNormAtCreation);
        QCOMPARE(x.mlpCosAtCreation, y.mlpCosAtCreation);
    }
    QCOMPARE(a.levels.size(), b.levels.size());
}

}  // namespace

class TestSessionWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void opensWithoutModel();
    void mismatchedModelIsReported();
    void corruptInputChangesNothing();
    void matchingModelGoesLive();
    void autosaveWritesALoadableSession();
    void guiSessionKeepsSinkInputs();

private:
    // `s` saved as `name` in the test's folder; its path.
    QString store(const char* name, const Session& s) const {
        const QString path = m_dir.filePath(name);
        saveSession(path.toStdString(), s);
        return path;
    }
    QTemporaryDir m_dir;
};

void TestSessionWindow::opensWithoutModel() {
    const Session stored = syntheticSession();
    const QString path = store("stored.attnscope", stored);
    MainWindow w(false);
    QVERIFY(w.sessions()->open(path));
    QVERIFY(w.sessions()->modelMatch() == SessionModelMatch::Absent);
    QVERIFY(w.statusBar()->currentMessage().contains("Model not found"));
    QVERIFY(!w.modelRequest());
    QCOMPARE(w.promptText(), QString::fromStdString(stored.prompt));
    // Every view redraws from the stored results.
    const AttentionSection a = decodeAttention(stored.panels.at("attention"));
    QCOMPARE(w.attentionPanel()->layer(), 1);
    QCOMPARE(w.attentionPanel()->head(), 2);
    QVERIFY(w.attentionPanel()->heatmap()->matrix().data == a.find(1, 2)->matrix.data);
    QCOMPARE(w.attentionPanel()->tokenStrip()->count(), int(stored.tokenIds.size()));
    QCOMPARE(w.analysisDocks()->sinksPanel()->result().T, int64_t(stored.tokenIds.size()));
    QCOMPARE(w.analysisDocks()->sinksPanel()->result().sinks.size(), size_t(2));
    QCOMPARE(w.analysisDocks()->weibullPanel()->fits().size(), size_t(16));
    QCOMPARE(w.analysisDocks()->headGridPanel()->scores().nLayers, sessiontest::kL);
    // Saving it again (no model) keeps every stored result and the model reference.
    const Session again = w.sessions()->capture();
    QCOMPARE(again.model.path, stored.model.path);
    QVERIFY(again.tokenIds == stored.tokenIds);
    for (const char* p : {"heads", "sinks", "weibull"}) QVERIFY2(sameTensors(stored.panels.at(p), again.panels.at(p)), p);
    QVERIFY(again.panels.at("attention").tensors.at("maps").bytes ==
            encodeAttention({1, 2, 0, 0, "viridis", "linear", {*a.find(1, 2)}}).tensors.at("maps").bytes);
}

void TestSessionWindow::mismatchedModelIsReported() {
    namespace fs = std::filesystem;
    const fs::path model = m_dir.filePath("changed-model").toStdString();
    fs::create_directories(model);
    std::ofstream(model / "config.json") << "{\"model_type\": \"llama\"}";
    Session s = syntheticSession();
    s.model.path = model.string();
    s.model.sha256 = std::string(64, '0');  // what it was when the session was saved
    const QString path = store("mismatch.attnscope", s);
    MainWindow w(false);
    QVERIFY(w.sessions()->open(path));
    QVERIFY(w.sessions()->modelMatch() == SessionModelMatch::Mismatch);
    QVERIFY2(w.statusBar()->currentMessage().contains("MISMATCH"), qPrintable(w.statusBar()->currentMessage()));
    QVERIFY(!w.modelRequest());  // not loaded behind the user's back
    QVERIFY(w.analysisDocks()->sinksPanel()->hasResult());
}

void TestSessionWindow::corruptInputChangesNothing() {
    const QString path = store("good.attnscope", syntheticSession());
    MainWindow w(false);
    QVERIFY(w.sessions()->open(path));
    const std::vector<float> before = w.attentionPanel()->heatmap()->matrix().data;
    const QString promptBefore = w.promptText();

    // A truncated file.
    QFile in(path);
    QVERIFY(in.open(QIODevice::ReadOnly));
    const QByteArray bytes = in.readAll();
    QFile cut(m_dir.filePath("cut.attnscope"));
    QVERIFY(cut.open(QIODevice::WriteOnly));
    cut.write(bytes.left(bytes.size() / 2));
    cut.close();
    QVERIFY(!w.sessions()->open(cut.fileName()));
    // A valid file with one section the panels cannot use (weibull tensors of another shape).
    Session bad = syntheticSession();
    bad.prompt = "something else";
    bad.panels["weibull"].tensors["fits.layer"] = SessionTensor::i32({1}, {0});
    QVERIFY(!w.sessions()->open(store("bad-section.attnscope", bad)));
    QVERIFY(w.statusBar()->currentMessage().contains("weibull"));

    QVERIFY(w.attentionPanel()->heatmap()->matrix().data == before);
    QCOMPARE(w.promptText(), promptBefore);
    QCOMPARE(w.analysisDocks()->weibullPanel()->fits().size(), size_t(16));
    QCOMPARE(w.sessions()->currentPath(), path);
}

void TestSessionWindow::matchingModelGoesLive() {
    const QString dir = apptest::defaultModelDir();
    if (!QFileInfo::exists(dir + "/config.json")) QSKIP("built-in model absent");
    Session s = syntheticSession();
    s.prompt = "Call me Ishmael.";
    s.model.path = QDir(dir).absolutePath().toStdString();
    s.model.sha256 = sessionModelFingerprint(s.model.path);
    const QString path = store("match.attnscope", s);
    MainWindow w(false);
    QSignalSpy shown(&w, &MainWindow::viewShown);
    QVERIFY(w.sessions()->open(path));
    QVERIFY(w.sessions()->modelMatch() == SessionModelMatch::Match);
    QVERIFY(w.modelRequest());
    QVERIFY(apptest::waitForView(shown));  // the model loaded and ran the stored prompt
    QVERIFY(w.modelInfo());
    QVERIFY(w.runTokens().ids.size() > 2);
}

void TestSessionWindow::autosaveWritesALoadableSession() {
    const Session s = syntheticSession();
    const QString path = store("auto-src.attnscope", s);
    MainWindow w(false);
    QVERIFY(w.sessions()->open(path));
    QFile::remove(w.sessions()->autosavePath());
    w.sessions()->autosaveNow();
    QVERIFY(QFile::exists(w.sessions()->autosavePath()));
    const Session back = loadSession(w.sessions()->autosavePath().toStdString());
    QVERIFY(sameTensors(back.panels.at("sinks"), s.panels.at("sinks")));
    QFile::remove(w.sessions()->autosavePath());
}

// Issue 9: a session saved from the GUI carries the sink statistics, so reopened without the
// model the panel redraws the same values and still re-classifies on a parameter edit, to
// what the core's classifySinks gives on statistics computed here from the model.
void TestSessionWindow::guiSessionKeepsSinkInputs() {
    const QString dir = apptest::defaultModelDir();
    if (!QFileInfo::exists(dir + "/config.json")) QSKIP("built-in model absent");
    const QString live = m_dir.filePath("gui-live.attnscope");
    SinkResult liveResult;
    std::vector<int32_t> ids;
    Matrix2D liveMap, liveLevels;
    {
        MainWindow w(false);
        w.setPromptText(QStringLiteral("Call me Ishmael. Some years ago, never mind how long precisely, having little "
                                       "or no money in my purse, I thought I would sail about a little."));
        QSignalSpy shown(&w, &MainWindow::panelShown);
        w.openModel(app::ModelRequest{dir, {}});
        QTRY_VERIFY_WITH_TIMEOUT(std::any_of(shown.begin(), shown.end(),
                                             [](const QList<QVariant>& a) { return a.at(0).toString() == "sinks"; }),
                                 120000);
        auto* panel = w.analysisDocks()->sinksPanel();
        QVERIFY(panel->inputs());
        liveResult = panel->result();
        liveMap = panel->tokenMap()->matrix();
        liveLevels = panel->levelMap()->matrix();
        ids = w.runTokens().ids;
        w.sessions()->saveTo(live);
    }
    // The file holds the statistics; then the model "goes away" (its path no longer exists).
    Session stored = loadSession(live.toStdString());
    const SinksSection section = decodeSinks(stored.panels.at("sinks"), stored.tokenIds);
    QVERIFY(section.hasInputs);
    QCOMPARE(section.inputs.T, int64_t(ids.size()));
    stored.model.path = m_dir.filePath("moved-away").toStdString();
    const QString path = store("gui-absent.attnscope", stored);

    MainWindow w(false);
    QVERIFY(w.sessions()->open(path));
    QVERIFY(w.sessions()->modelMatch() == SessionModelMatch::Absent);
    auto* panel = w.analysisDocks()->sinksPanel();
    compareSinkResults(panel->result(), liveResult);
    QVERIFY(sameBits(panel->tokenMap()->matrix().data, liveMap.data));
    QVERIFY(sameBits(panel->levelMap()->matrix().data, liveLevels.data));
    QCOMPARE(panel->scatterPlot()->scatter().points.size(), sinkMlpScatter(liveResult).points.size());

    // Statistics computed here from the model, then classified with an edited threshold.
    auto model = testmodels::openPath(dir.toStdString());
    const SinkInputs reference = computeSinkInputs(*model->run(ids), 0);
    SinkParams edited = panel->params();
    edited.cosThreshold = 0.5;
    const SinkResult expected = classifySinks(reference, edited);
    QSignalSpy shown(&w, &MainWindow::panelShown);
    panel->setParams(edited);
    emit panel->paramsChanged(edited);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, 10000);  // re-classified with no model
    QVERIFY(!w.modelRequest());
    const SinkResult& got = panel->result();
    QCOMPARE(got.primary, expected.primary);
    QCOMPARE(got.sinks.size(), expected.sinks.size());
    for (size_t i = 0; i < got.sinks.size(); ++i) {
        QCOMPARE(got.sinks[i].token, expected.sinks[i].token);
        QCOMPARE(int(got.sinks[i].cls), int(expected.sinks[i].cls));
        QVERIFY(got.sinks[i].layers == expected.sinks[i].layers);
        QVERIFY(std::abs(got.sinks[i].meanScore - expected.sinks[i].meanScore) <= 1e-5f);
    }
    // A parameter that needs new statistics says so instead of failing silently.
    SinkParams other = edited;
    other.minQueryPos = 3;
    emit panel->paramsChanged(other);
    QVERIFY(panel->findChildren<QLabel*>().size() > 0);
    bool said = false;
    for (QLabel* l : panel->findChildren<QLabel*>()) said = said || l->text().contains("open the model");
    QVERIFY(said);
}

QTEST_MAIN(TestSessionWindow)
#include "tst_session_window.moc"
