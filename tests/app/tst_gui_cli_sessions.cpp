// The GUI and the CLI compute every analysis one way (issue 17): the same prompt run through
// the real main window (worker, docks, panels, session save) and through `attnscope-cli
// session` with the panels' parameters gives bit-identical session sections for the head
// scores, sinks, Weibull fits, KV-cache eviction, quantization, entropy by layer and A^3.
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

#include <algorithm>

#include "analysis_docks.h"
#include "app_window_support.h"
#include "attnscope/session.h"
#include "attnscope/session_codecs.h"
#include "cli_runner.h"
#include "main_window.h"
#include "session_controller.h"

using namespace attnscope;
using attnscope::app::MainWindow;

namespace {

const QString kPrompt = QStringLiteral(
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and "
    "nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of "
    "the world.");

// Every analysis whose section both paths compute (the attention section stores the views the
// user looked at, which the CLI chooses by --layer/--head).
constexpr const char* kCompared[] = {"heads",   "sinks", "weibull",  "kv",        "quant",
                                     "entropy", "a3",    "variants", "logit_lens"};

bool sawPanel(const QSignalSpy& spy, const QString& id) {
    return std::any_of(spy.begin(), spy.end(), [&](const QList<QVariant>& a) { return a.at(0).toString() == id; });
}

// The parameters the GUI's panels used, as `session` options.
QStringList optionsFromGui(const Session& gui) {
    QStringList o;
    const KvSection kv = decodeKv(gui.panels.at("kv"));
    o << "--policy" << QString::fromStdString(kv.params.policy) << "--budget" << QString::number(kv.params.budget)
      << "--mode" << kvModeName(kv.params.mode) << "--policies" << ""
      << "--continuation" << QString::number(int64_t(kv.tokens.ids.size()) - int64_t(gui.tokenIds.size()));
    QStringList params;
    for (const auto& [name, value] : kv.params.values) params << QString::fromStdString(name) + "=" + QString::number(value, 'g', 17);
    if (!params.isEmpty()) o << "--param" << params.join(',');
    const QuantSection q = decodeQuant(gui.panels.at("quant"));
    o << "--quant-scheme" << QString::fromStdString(q.quant.scheme) << "--quant-bits" << QString::number(q.quant.bits)
      << "--quant-group" << QString::number(q.quant.group) << "--quant-rank" << QString::number(q.rank)
      << "--quant-methods" << QString::fromStdString(q.methodA + "," + q.methodB) << "--quant-error"
      << QString::fromStdString(q.error);
    const WeibullSection w = decodeWeibull(gui.panels.at("weibull"));
    o << "--protocol" << weibullProtocolName(w.params.protocol) << "--trim" << weibullTrimName(w.params.trim);
    if (!w.selected.empty()) o << "--weibull-matrix" << QString::fromStdString(w.selected);
    return o;
}

// Every tensor bit for bit, and the parameters' JSON.
void compareSections(const std::string& id, const SessionSection& gui, const SessionSection& cli) {
    QVERIFY2(gui.params == cli.params, qPrintable(QString::fromStdString(id + ": GUI " + gui.params.dump() +
                                                                          "\nCLI " + cli.params.dump())));
    QStringList names;
    for (const auto& [name, t] : gui.tensors) names << QString::fromStdString(name);
    for (const auto& [name, t] : cli.tensors)
        QVERIFY2(gui.tensors.count(name), qPrintable(QString::fromStdString(id + ": only the CLI has " + name)));
    for (const auto& [name, t] : gui.tensors) {
        auto it = cli.tensors.find(name);
        QVERIFY2(it != cli.tensors.end(), qPrintable(QString::fromStdString(id + ": only the GUI has " + name)));
        QVERIFY2(it->second.shape == t.shape && it->second.bytes == t.bytes,
                 qPrintable(QString::fromStdString(id + ": tensor " + name + " differs")));
    }
}

}  // namespace

class TestGuiCliSessions : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void sameSectionsFromBothPaths();

private:
    QTemporaryDir m_dir;
};

void TestGuiCliSessions::sameSectionsFromBothPaths() {
    const QString dir = apptest::defaultModelDir();
    if (!QFileInfo::exists(dir + "/config.json")) QSKIP("built-in model absent");
    const QString guiPath = m_dir.filePath("gui.attnscope"), cliPath = m_dir.filePath("cli.attnscope");
    std::vector<int32_t> ids;
    {
        MainWindow w(false);
        w.resize(1600, 1000);
        w.show();
        w.setPromptText(kPrompt);
        QSignalSpy shown(&w, &MainWindow::panelShown);
        w.openModel(app::ModelRequest{dir, {}});
        w.showPanel(QStringLiteral("quant"));  // the quantization lab computes while its dock is visible
        for (const char* id : {"heads", "sinks", "weibull", "kv", "quant"})
            QTRY_VERIFY2_WITH_TIMEOUT(sawPanel(shown, QString::fromLatin1(id)), id, 300000);
        for (const char* id : {"entropy", "a3", "variants", "logit_lens"}) {  // section docks compute while on screen
            w.showPanel(QString::fromLatin1(id));
            QTRY_VERIFY2_WITH_TIMEOUT(sawPanel(shown, QString::fromLatin1(id)), id, 300000);
        }
        ids = w.runTokens().ids;
        // The Weibull panel's selected matrix gets its plot after the fits: wait for it too.
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                     w.sessions()->saveTo(guiPath);
                                     const WeibullSection s = decodeWeibull(loadSession(guiPath.toStdString()).panels.at("weibull"));
                                     const KvSection k = decodeKv(loadSession(guiPath.toStdString()).panels.at("kv"));
                                     return (s.selected.empty() || s.hasPlot) && k.hasEndToEnd;
                                 }()),
                                 120000);
    }
    const Session gui = loadSession(guiPath.toStdString());
    QCOMPARE(gui.tokenIds, ids);
    for (const char* id : kCompared) QVERIFY2(gui.panels.count(id), id);

    QStringList args = {
        "session",  "--model", dir,     "--ids",    clitest::idsArg(ids),
        "--no-bos", "--out",   cliPath, "--panels", "heads,sinks,weibull,kv,quant,entropy,a3,variants,logit_lens"};
    args << optionsFromGui(gui);
    const clitest::Result r = clitest::cli(args, 600000);
    QVERIFY2(r.code == 0, r.err.constData());
    const Session cli = loadSession(cliPath.toStdString());
    QCOMPARE(cli.tokenIds, ids);
    for (const char* id : kCompared) {
        QVERIFY2(cli.panels.count(id), id);
        compareSections(id, gui.panels.at(id), cli.panels.at(id));
        if (QTest::currentTestFailed()) return;
    }
}

QTEST_MAIN(TestGuiCliSessions)
#include "tst_gui_cli_sessions.moc"
