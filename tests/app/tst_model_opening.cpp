// Every way into the real main window opens the model: command line (the attnscope
// executable), the recent-models list (QSettings), drag-and-drop; a bad model file gives a
// clear error and leaves the window usable; cancelling a run leaves it usable too.
#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QCoreApplication>
#include <QDropEvent>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QProcess>
#include <QProgressBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <sys/resource.h>

#include <fstream>
#include <string>

#include "app_window_support.h"
#include "main_window.h"
#include "metatypes.h"
#include "panels/attention_maps_panel.h"
#include "plot/attention_heatmap.h"
#include "token_strip.h"

using attnscope::app::MainWindow;
using attnscope::app::ModelRequest;

namespace {

const QString kPrompt = QStringLiteral("Once upon a time, there was a little dog.");

QString statusText(MainWindow& w) {
    QString all;
    for (QLabel* label : w.statusBar()->findChildren<QLabel*>()) all += label->text() + QLatin1Char('\n');
    return all;
}

// A one-layer Llama whose MLP is 262,144 wide (zero bf16 weights, the built-in model's
// tokenizer): cheap to load, but a 900-token run needs ~1 GB per MLP activation.
QString writeWideMlpModel(const QString& dir) {
    const int64_t D = 16, F = 262144, V = 4096;
    std::vector<std::pair<QString, std::vector<int64_t>>> tensors = {
        {"model.embed_tokens.weight", {V, D}}, {"model.norm.weight", {D}},
        {"model.layers.0.input_layernorm.weight", {D}}, {"model.layers.0.post_attention_layernorm.weight", {D}},
        {"model.layers.0.self_attn.q_proj.weight", {D, D}}, {"model.layers.0.self_attn.k_proj.weight", {D, D}},
        {"model.layers.0.self_attn.v_proj.weight", {D, D}}, {"model.layers.0.self_attn.o_proj.weight", {D, D}},
        {"model.layers.0.mlp.gate_proj.weight", {F, D}}, {"model.layers.0.mlp.up_proj.weight", {F, D}},
        {"model.layers.0.mlp.down_proj.weight", {D, F}}};
    QJsonObject header;
    int64_t offset = 0;
    for (const auto& [name, shape] : tensors) {
        int64_t n = 2;
        QJsonArray dims;
        for (int64_t d : shape) { n *= d; dims.append(qint64(d)); }
        header[name] = QJsonObject{{"dtype", "BF16"}, {"shape", dims}, {"data_offsets", QJsonArray{qint64(offset), qint64(offset + n)}}};
        offset += n;
    }
    QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while (json.size() % 8) json.append(' ');
    QFile st(dir + "/model.safetensors");
    if (!st.open(QIODevice::WriteOnly)) return {};
    const quint64 len = quint64(json.size());
    st.write(reinterpret_cast<const char*>(&len), 8);
    st.write(json);
    st.write(QByteArray(qsizetype(offset), '\0'));
    st.close();
    QFile cfg(dir + "/config.json");
    if (!cfg.open(QIODevice::WriteOnly)) return {};
    cfg.write(R"({"model_type":"llama","hidden_size":16,"intermediate_size":262144,"num_hidden_layers":1,
                  "num_attention_heads":2,"num_key_value_heads":2,"vocab_size":4096,
                  "max_position_embeddings":1024,"tie_word_embeddings":true,"bos_token_id":0})");
    cfg.close();
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
        QFile::copy(apptest::defaultModelDir() + "/" + f, dir + "/" + f);
    return dir;
}

// Virtual memory of this process (VmSize), bytes.
rlim_t addressSpaceInUse() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmSize:", 0) == 0) return rlim_t(std::stoull(line.substr(7))) * 1024;
    return 0;
}

bool skipWithoutStories() { return testpaths::stories260K().isEmpty(); }

// T tokens of the loaded prompt, and the map shows T x T.
bool showsWholePrompt(MainWindow& w) {
    const int T = w.attentionPanel()->tokenStrip()->count();
    const auto& m = w.attentionPanel()->heatmap()->matrix();
    return T > 1 && m.rows == T && m.cols == T;
}

}  // namespace

class TestModelOpening : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        attnscope::widgets::registerMetaTypes();
        // Recent models go to a throw-away settings file, never the user's.
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("AttnScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_model_opening"));
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_settingsDir.path());
        QSettings().clear();
    }

    void commandLineOpensModel() {
        if (skipWithoutStories()) QSKIP("stories260K not found beside the checkout");
        QTemporaryDir dir;
        const QString out = dir.filePath("shot.png");
        const ModelRequest r = apptest::storiesRequest();
        QProcess app;
        app.setProcessChannelMode(QProcess::MergedChannels);
        app.start(QStringLiteral(ATTNSCOPE_GUI_PATH),
                  {"--model", r.path, "--tokenizer", r.tokenizer, "--prompt", kPrompt, "--layer", "2",
                   "--head", "1", "--screenshot", out});
        QVERIFY(app.waitForFinished(120000));
        QVERIFY2(app.exitCode() == 0, app.readAll().constData());
        QImage shot(out);
        QVERIFY(!shot.isNull());
        QCOMPARE(shot.size() / shot.devicePixelRatio(), QSize(1600, 1000));

        // A model path that is not a model: a message and a failing exit code, no picture.
        QFile junk(dir.filePath("junk.safetensors"));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("this is not a safetensors file");
        junk.close();
        app.start(QStringLiteral(ATTNSCOPE_GUI_PATH),
                  {"--model", junk.fileName(), "--screenshot", dir.filePath("bad.png")});
        QVERIFY(app.waitForFinished(60000));
        QCOMPARE(app.exitStatus(), QProcess::NormalExit);  // no crash
        QVERIFY(app.exitCode() != 0);
        QVERIFY2(app.readAll().contains("junk.safetensors"), "the error names the file");
        QVERIFY(!QFile::exists(dir.filePath("bad.png")));
    }

    void recentModelsReopen() {
        if (skipWithoutStories()) QSKIP("stories260K not found beside the checkout");
        const ModelRequest r = apptest::storiesRequest();
        {
            MainWindow first(/*interactive=*/true);
            first.setPromptText(kPrompt);
            QSignalSpy shown(&first, &MainWindow::viewShown);
            first.openModel(r);
            QVERIFY(apptest::waitForView(shown));
        }
        const QVariantList stored = QSettings().value("recentModels").toList();
        QCOMPARE(stored.size(), 1);
        QCOMPARE(stored.first().toMap().value("path").toString(), r.path);

        // A new window lists it; choosing it opens the model with its tokenizer.
        MainWindow second(/*interactive=*/true);
        second.setPromptText(kPrompt);
        auto* menu = second.findChild<QMenu*>(QStringLiteral("recentMenu"));
        QVERIFY(menu);
        QVERIFY(menu->isEnabled());
        QCOMPARE(menu->actions().size(), 1);
        QCOMPARE(menu->actions().first()->text(), r.path);
        QSignalSpy shown(&second, &MainWindow::viewShown);
        menu->actions().first()->trigger();
        QVERIFY(apptest::waitForView(shown));
        QVERIFY(showsWholePrompt(second));
        QVERIFY(second.windowTitle().contains(QStringLiteral("stories260K.bin")));
    }

    void dropOpensModel() {
        if (skipWithoutStories()) QSKIP("stories260K not found beside the checkout");
        const ModelRequest r = apptest::storiesRequest();
        MainWindow w(/*interactive=*/false);
        w.setPromptText(kPrompt);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QMimeData mime;
        // The tokenizer first: the window must tell the model from its tokenizer.
        mime.setUrls({QUrl::fromLocalFile(r.tokenizer), QUrl::fromLocalFile(r.path)});
        const QPoint at = w.rect().center();
        QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QSignalSpy shown(&w, &MainWindow::viewShown);
        QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&w, &drop);
        QVERIFY(drop.isAccepted());
        QVERIFY(apptest::waitForView(shown));
        QVERIFY(showsWholePrompt(w));
        QVERIFY(w.windowTitle().contains(QStringLiteral("stories260K.bin")));

        // Two models at once are ambiguous: refused with a message.
        QMimeData two;
        two.setUrls({QUrl::fromLocalFile(r.path), QUrl::fromLocalFile(apptest::defaultModelDir())});
        QDragEnterEvent enterTwo(at, Qt::CopyAction, &two, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&w, &enterTwo);  // a drop always follows its drag-enter
        QDropEvent bad(QPointF(at), Qt::CopyAction, &two, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&w, &bad);
        QVERIFY(statusText(w).contains(QStringLiteral("Drop one model")));
        QVERIFY(showsWholePrompt(w));  // the loaded model stays
    }

    void badModelLeavesWindowUsable() {
        if (skipWithoutStories()) QSKIP("stories260K not found beside the checkout");
        QTemporaryDir dir;
        MainWindow w(/*interactive=*/false);
        w.setPromptText(kPrompt);
        QSignalSpy failed(&w, &MainWindow::loadFailed);

        // A truncated llama2.c checkpoint (a real header, no weights) and garbage safetensors.
        QFile full(apptest::storiesRequest().path);
        QVERIFY(full.open(QIODevice::ReadOnly));
        QFile cut(dir.filePath("cut.bin"));
        QVERIFY(cut.open(QIODevice::WriteOnly));
        cut.write(full.read(1000));
        cut.close();
        QFile junk(dir.filePath("junk.safetensors"));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write(QByteArray(64, '\xff'));
        junk.close();

        int expected = 0;
        for (const ModelRequest& bad : {ModelRequest{cut.fileName(), apptest::storiesRequest().tokenizer},
                                        ModelRequest{junk.fileName(), {}},
                                        ModelRequest{dir.filePath("missing-dir"), {}}}) {
            w.openModel(bad);
            ++expected;  // not inside QTRY_*: the macro evaluates its arguments on every poll
            QTRY_COMPARE_WITH_TIMEOUT(failed.count(), expected, 30000);
            const QString message = failed.last().first().toString();
            QVERIFY2(message.contains(QFileInfo(bad.path).fileName()), qPrintable(message));
            QVERIFY(statusText(w).contains(QStringLiteral("Could not open")));
            QVERIFY(!w.findChild<QAction*>(QStringLiteral("runAction"))->isEnabled());
        }

        QSignalSpy shown(&w, &MainWindow::viewShown);
        w.openModel(apptest::storiesRequest());
        QVERIFY(apptest::waitForView(shown));
        QVERIFY(showsWholePrompt(w));
        QVERIFY(w.findChild<QAction*>(QStringLiteral("runAction"))->isEnabled());
    }

    void cancelledRunLeavesWindowUsable() {
        // The built-in model on ~900 tokens: long enough to catch the run in flight.
        QFile slice(testpaths::data("heldout_slice.txt"));
        QVERIFY(slice.open(QIODevice::ReadOnly));
        MainWindow w(/*interactive=*/false);
        w.setPromptText(QString::fromUtf8(slice.readAll()));
        auto* progress = w.findChild<QProgressBar*>();
        auto* cancel = w.findChild<QAction*>(QStringLiteral("cancelAction"));
        auto* run = w.findChild<QAction*>(QStringLiteral("runAction"));
        QVERIFY(progress && cancel && run);
        QSignalSpy shown(&w, &MainWindow::viewShown);
        w.openModel(ModelRequest{apptest::defaultModelDir(), {}});
        QTRY_VERIFY_WITH_TIMEOUT(statusText(w).contains(QStringLiteral("Running")), 30000);
        QVERIFY(cancel->isEnabled());
        cancel->trigger();
        QVERIFY(!cancel->isEnabled());
        QVERIFY(run->isEnabled());
        QVERIFY(!progress->isVisibleTo(&w));
        QVERIFY(statusText(w).contains(QStringLiteral("ancelled")));
        QTest::qWait(1500);  // whatever the worker was doing must not reach the window now
        QCOMPARE(shown.count(), 0);
        QCOMPARE(w.attentionPanel()->heatmap()->matrix().rows, 0);

        run->trigger();  // again, to the end
        QVERIFY(apptest::waitForView(shown, 120000));
        QVERIFY(showsWholePrompt(w));
        QVERIFY(w.attentionPanel()->tokenStrip()->count() > 500);
    }

    void outOfMemoryKeepsPreviousRun() {
#if defined(__SANITIZE_ADDRESS__)
        QSKIP("an address-space limit cannot be used under AddressSanitizer (it reserves terabytes)");
#endif
        // A real allocation failure: the address space is capped 256 MB above what the window
        // uses after a short run, and the ~900-token run asks for ~1 GB at once.
        QFile slice(testpaths::data("heldout_slice.txt"));
        QVERIFY(slice.open(QIODevice::ReadOnly));
        QTemporaryDir dir;
        QVERIFY(!writeWideMlpModel(dir.path()).isEmpty());
        MainWindow w(/*interactive=*/false);
        w.setPromptText(kPrompt);
        auto* run = w.findChild<QAction*>(QStringLiteral("runAction"));
        QSignalSpy shown(&w, &MainWindow::viewShown);
        QSignalSpy failed(&w, &MainWindow::runFailed);
        w.openModel(ModelRequest{dir.path(), {}});
        QVERIFY(apptest::waitForView(shown));
        QTest::qWait(500);  // let the docks' follow-up jobs finish before the cap
        const int shortT = w.attentionPanel()->tokenStrip()->count();
        const std::vector<float> before = w.attentionPanel()->heatmap()->matrix().data;
        QVERIFY(showsWholePrompt(w));

        rlimit old{};
        QCOMPARE(getrlimit(RLIMIT_AS, &old), 0);
        rlimit capped = old;
        capped.rlim_cur = addressSpaceInUse() + (rlim_t(256) << 20);
        QVERIFY(capped.rlim_cur < old.rlim_max);
        w.setPromptText(QString::fromUtf8(slice.readAll()));
        QCOMPARE(setrlimit(RLIMIT_AS, &capped), 0);
        run->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty() || shown.count() > 1, 120000);
        QCOMPARE(setrlimit(RLIMIT_AS, &old), 0);
        QCOMPARE(failed.count(), 1);
        const QString message = failed.first().first().toString();
        QVERIFY2(message.contains(QStringLiteral("out of")) && message.contains(QStringLiteral("memory")),
                 qPrintable(message));
        QVERIFY(statusText(w).contains(QStringLiteral("Run failed")));
        // The previous run is still on screen, unchanged, and the window still works.
        QCOMPARE(w.attentionPanel()->tokenStrip()->count(), shortT);
        QVERIFY(w.attentionPanel()->heatmap()->matrix().data == before);
        QVERIFY(run->isEnabled());
        const int views = int(shown.count());
        w.attentionPanel()->setHead(1);  // a new view of the previous trace
        QTRY_VERIFY_WITH_TIMEOUT(shown.count() > views, 30000);
        QCOMPARE(w.attentionPanel()->tokenStrip()->count(), shortT);
        const int viewsBefore = int(shown.count());
        w.setPromptText(kPrompt + kPrompt);  // with the cap gone, a new run replaces the old one
        run->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(shown.count() > viewsBefore && w.attentionPanel()->tokenStrip()->count() > shortT, 120000);
        QVERIFY(showsWholePrompt(w));
    }

    void layoutAndThemeRemembered() {
        // What a user arranged comes back in the next window: dock visibility, window size,
        // the theme (QSettings, written on close and on the theme toggle).
        const QSize size(1234, 777);
        {
            MainWindow first(/*interactive=*/true);
            first.show();
            QVERIFY(QTest::qWaitForWindowExposed(&first));
            first.resize(size);
            auto* heads = first.findChild<QDockWidget*>(QStringLiteral("headsDock"));
            QVERIFY(heads && heads->isVisible());
            heads->hide();
            first.setDarkTheme(true);
            QVERIFY(first.close());
        }
        MainWindow second(/*interactive=*/true);
        second.show();
        QVERIFY(QTest::qWaitForWindowExposed(&second));
        QCOMPARE(second.size(), size);
        auto* heads = second.findChild<QDockWidget*>(QStringLiteral("headsDock"));
        QVERIFY(heads && !heads->isVisible());
        QVERIFY(second.findChild<QDockWidget*>(QStringLiteral("modelDock"))->isVisible());
        // Dark: the window background is darker than its text.
        const QPalette pal = QApplication::palette();
        QVERIFY(pal.color(QPalette::Window).lightness() < pal.color(QPalette::WindowText).lightness());
        second.setDarkTheme(false);  // the next test starts light
        QVERIFY(QApplication::palette().color(QPalette::Window).lightness() >
                QApplication::palette().color(QPalette::WindowText).lightness());
    }

private:
    QTemporaryDir m_settingsDir;
};

QTEST_MAIN(TestModelOpening)
#include "tst_model_opening.moc"
