// attnscope: the desktop app. With --screenshot it loads, runs, renders one attention
// map at 1600x1000, saves a PNG and exits (works under QT_QPA_PLATFORM=offscreen).
#include <cstdio>
#include <memory>
#include <utility>

#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QRegularExpression>
#include <QTimer>

#include "analysis_docks.h"
#include "kv_dock.h"
#include "main_window.h"
#include "metatypes.h"
#include "model_locator.h"
#include "panels/attention_maps_panel.h"
#include "panels/sinks_panel.h"
#include "panels/weibull_panel.h"
#include "panels/weibull_series_view.h"
#include "screenshot_gate.h"
#include "session_controller.h"
#include "teaching_window.h"

using attnscope::app::MainWindow;
using attnscope::app::ModelRequest;

namespace {

constexpr int kScreenshotTimeoutMs = 1'200'000;  // an 8K-token prompt on a busy CPU takes minutes

void fatal(const QString& message, int code) {
    std::fprintf(stderr, "attnscope: %s\n", qPrintable(message));
    QCoreApplication::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("AttnScope"));
    QApplication::setApplicationName(QStringLiteral("attnscope"));
    QApplication::setApplicationVersion(QStringLiteral(ATTNSCOPE_VERSION));
    attnscope::widgets::registerMetaTypes();

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("See what attention does in a transformer LM."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption model({"m", "model"}, "HF model folder, .safetensors file or llama2.c .bin.", "path");
    const QCommandLineOption tokenizer("tokenizer", "Tokenizer file (llama2.c tokenizer .bin or tokenizer.json).", "path");
    const QCommandLineOption prompt({"p", "prompt"}, "Prompt text to run after loading.", "text");
    const QCommandLineOption promptFile("prompt-file", "Read the prompt from a file.", "file");
    const QCommandLineOption layer("layer", "Layer to show.", "L", "0");
    const QCommandLineOption head("head", "Query head to show (-1: mean over heads).", "H", "-1");
    const QCommandLineOption select("select", "Select query token N after the run (its attention is shown on the tokens).", "N");
    const QCommandLineOption scale("scale", "Colour scale: auto (default: log above 128 tokens), linear or log.", "name");
    const QCommandLineOption colormap("colormap", "viridis, magma, cividis or grey.", "name");
    const QCommandLineOption theme("theme", "light or dark.", "name");
    const QCommandLineOption screenshot("screenshot", "Render at 1600x1000 to a PNG and exit.", "out.png");
    const QCommandLineOption panel("panel", QStringLiteral("Raise an analysis panel: %1 (with --screenshot: wait for its "
                                                           "data).").arg(attnscope::app::AnalysisDocks::panelNames().join(", ")),
                                   "name");
    const QCommandLineOption epsilon("epsilon", "Sinks panel: \u03b5, applied once the first result is shown, "
                                                "as a user's edit would be (re-classifies).", "E");
    const QCommandLineOption cosThreshold("cos-threshold", "Sinks panel: |cos| threshold, applied like --epsilon.", "C");
    const QCommandLineOption kvSweep("kv-sweep", "KV panel: sweep its checked policies and budgets, export the "
                                                 "sweep plot to a PNG (with --screenshot: before the shot).", "out.png");
    const QCommandLineOption kvOptions("kv", "KV panel settings, e.g. policy=h2o,budget=64,mode=decode,"
                                             "tab=keep|sweep|compare,pin=streaming_llm,step=5,window=16.", "spec");
    const QCommandLineOption view("view", "Zoom the map to queries q0:q1 and keys k0:k1 (token positions, "
                                          "end exclusive), e.g. 0:64,0:64.", "q0:q1,k0:k1");
    const QCommandLineOption pool("pool", "Long prompts: block max or mean in the overview.", "max|mean");
    const QCommandLineOption asKey("as-key", "Colour the tokens by the attention the --select token receives.");
    const QCommandLineOption weibullSeries("weibull-series", "Weibull panel: once the model's fits are shown, fit its "
                                                             "checkpoint series and raise that tab (with --screenshot: wait for it).");
    const QCommandLineOption teaching("teaching", "Open teaching mode (the presentation view, F5) after the run; "
                                                  "with --screenshot, shoot it instead of the main window.");
    parser.addOptions({model, tokenizer, prompt, promptFile, layer, head, select, scale, colormap, theme,
                       screenshot, panel, epsilon, cosThreshold, kvSweep, view, pool, asKey, kvOptions, teaching,
                       weibullSeries});
    parser.addPositionalArgument(QStringLiteral("session"), QStringLiteral("A saved session (.attnscope) to open."),
                                 QStringLiteral("[FILE.attnscope]"));
    parser.process(app);
    QString sessionFile;
    for (const QString& arg : parser.positionalArguments())
        if (arg.endsWith(QLatin1String(".attnscope"))) sessionFile = arg;

    const bool shoot = parser.isSet(screenshot);
    MainWindow window(/*interactive=*/!shoot);
    if (parser.isSet(theme)) window.setDarkTheme(parser.value(theme) == QLatin1String("dark"));
    if (parser.isSet(prompt)) window.setPromptText(parser.value(prompt));
    if (parser.isSet(promptFile)) {
        QFile file(parser.value(promptFile));
        if (!file.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "attnscope: cannot read %s\n", qPrintable(file.fileName()));
            return 2;
        }
        window.setPromptText(QString::fromUtf8(file.readAll()));
    }
    window.setLayerHead(parser.value(layer).toInt(), parser.value(head).toInt());
    if (parser.value(scale) == QLatin1String("log"))
        window.attentionPanel()->setColorScale(attnscope::widgets::ColorScale::Log);
    else if (parser.value(scale) == QLatin1String("linear"))
        window.attentionPanel()->setColorScale(attnscope::widgets::ColorScale::Linear);
    if (auto map = attnscope::widgets::colormapFromName(parser.value(colormap)))
        window.attentionPanel()->setColormap(*map);
    if (parser.isSet(select)) window.selectTokenAfterRun(parser.value(select).toInt());
    if (parser.isSet(asKey)) window.attentionPanel()->setTokenRole(attnscope::widgets::TokenRole::Key);
    if (parser.value(pool) == QLatin1String("mean")) window.attentionPanel()->setPoolIndex(1);
    std::optional<attnscope::widgets::HeatmapExtent> zoom;
    if (parser.isSet(view)) {
        static const QRegularExpression re(QStringLiteral("^(\\d+):(\\d+),(\\d+):(\\d+)$"));
        const QRegularExpressionMatch m = re.match(parser.value(view));
        if (!m.hasMatch() || m.captured(1).toLongLong() >= m.captured(2).toLongLong() ||
            m.captured(3).toLongLong() >= m.captured(4).toLongLong()) {
            std::fprintf(stderr, "attnscope: --view wants q0:q1,k0:k1 with q0 < q1 and k0 < k1\n");
            return 2;
        }
        zoom = attnscope::widgets::HeatmapExtent{m.captured(1).toLongLong(), m.captured(2).toLongLong(),
                                                 m.captured(3).toLongLong(), m.captured(4).toLongLong()};
        QObject::connect(&window, &MainWindow::viewShown, &window, [&window, zoom] {
            window.attentionPanel()->heatmap()->setView(*zoom);
        }, Qt::SingleShotConnection);
    }
    const QString panelName = parser.value(panel);
    if (parser.isSet(panel) && !attnscope::app::AnalysisDocks::panelNames().contains(panelName)) {
        std::fprintf(stderr, "attnscope: --panel must be one of %s\n",
                     qPrintable(attnscope::app::AnalysisDocks::panelNames().join(QStringLiteral(", "))));
        return 2;
    }
    // Parameter edits wait for the first sinks result, so they re-classify as an edit does.
    const bool editSinks = parser.isSet(epsilon) || parser.isSet(cosThreshold);
    if (editSinks) {
        auto* sinks = window.analysisDocks()->sinksPanel();
        auto applied = std::make_shared<bool>(false);
        QObject::connect(
            &window, &MainWindow::panelShown, sinks,
            [sinks, applied, eps = parser.value(epsilon), cos = parser.value(cosThreshold)](const QString& name) {
                if (name != QLatin1String("sinks") || std::exchange(*applied, true)) return;
                attnscope::SinkParams params = sinks->params();
                if (!eps.isEmpty()) params.epsilon = eps.toDouble();
                if (!cos.isEmpty()) params.cosThreshold = cos.toDouble();
                sinks->setParams(params);
                emit sinks->paramsChanged(params);
            });
    }

    // The series is fitted after the model's own fits and counts as the Weibull panel's second result.
    if (parser.isSet(weibullSeries)) {
        auto* weibull = window.analysisDocks()->weibullPanel();
        auto asked = std::make_shared<bool>(false);
        QObject::connect(&window, &MainWindow::panelShown, weibull, [weibull, asked](const QString& name) {
            if (name != QLatin1String("weibull") || std::exchange(*asked, true)) return;
            weibull->showSeriesTab();
            weibull->seriesView()->request(QString());
        });
        QObject::connect(weibull->seriesView(), &attnscope::widgets::WeibullSeriesView::seriesShown, &window,
                         [&window] { emit window.panelShown(QStringLiteral("weibull")); });
    }

    if (parser.isSet(kvSweep)) window.analysisDocks()->kvDock()->exportSweepWhenReady(parser.value(kvSweep));
    if (parser.isSet(kvOptions) && !window.analysisDocks()->kvDock()->applyOptions(parser.value(kvOptions))) {
        std::fprintf(stderr, "attnscope: --kv: unknown policy or parameter in '%s'\n", qPrintable(parser.value(kvOptions)));
        return 2;
    }

    std::optional<ModelRequest> request;
    if (parser.isSet(model)) {
        QStringList paths{parser.value(model)};
        if (parser.isSet(tokenizer)) paths << parser.value(tokenizer);
        request = attnscope::app::requestFromPaths(paths);
        if (request && parser.isSet(tokenizer)) request->tokenizer = parser.value(tokenizer);
    } else if (const QString dir = attnscope::app::defaultModelDir(); !dir.isEmpty() && sessionFile.isEmpty()) {
        request = ModelRequest{dir, {}};
    }

    if (shoot) {
        const QString out = parser.value(screenshot);
        window.resize(1600, 1000);
        auto grab = [&window, out, teach = parser.isSet(teaching)] {
            QWidget* target = &window;
            if (teach) {
                auto* t = new attnscope::app::TeachingWindow(&window);
                t->show();
                target = t;
            }
            // Let layouts settle at the final size before rendering.
            QTimer::singleShot(300, &window, [target, out] {
                if (!target->grab().save(out)) fatal(QStringLiteral("cannot write %1").arg(out), 1);
                else QCoreApplication::exit(0);
            });
        };
        // The map, the head grid, --panel's (last) data and --view's finer tile.
        auto* gate = new attnscope::app::ScreenshotGate(&window, panelName,
                                                        (editSinks && panelName == "sinks") ||
                                                                (parser.isSet(weibullSeries) && panelName == "weibull")
                                                            ? 2 : 1,
                                                        zoom.has_value());
        QObject::connect(gate, &attnscope::app::ScreenshotGate::opened, &window, grab);
        QObject::connect(&window, &MainWindow::loadFailed, &app, [](const QString& m) { fatal(m, 1); });
        QObject::connect(&window, &MainWindow::runFailed, &app, [](const QString& m) { fatal(m, 1); });
        QTimer::singleShot(kScreenshotTimeoutMs, &app, [] { fatal(QStringLiteral("timed out"), 3); });
        if (!request) grab();  // the empty state (or a stored session, drawn at once) is worth a picture too
    }
    window.show();
    if (!panelName.isEmpty()) window.showPanel(panelName);
    if (!sessionFile.isEmpty()) {
        if (!window.sessions()->open(sessionFile) && shoot) fatal(QStringLiteral("cannot open %1").arg(sessionFile), 2);
    } else if (!shoot) {
        window.sessions()->offerRecovery();  // an autosave left by a crash
    }
    if (request) window.openModel(*request);
    if (parser.isSet(teaching) && !shoot) {
        // Opened at once: it follows the run as results arrive, like F5 would.
        (new attnscope::app::TeachingWindow(&window))->show();
    }
    return app.exec();
}
