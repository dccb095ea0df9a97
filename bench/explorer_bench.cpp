// attnscope-bench-explorer: the attention explorer as a user meets it, offscreen, through
// the real MainWindow (attnscope_app).
//  1. Run -> first heatmap on screen: the built-in model, ~1K tokens, CPU; with the forward
//     pass and the map's tile timed alone through the core for comparison.
//  2. Pan and zoom at T = 8K and 32K: the frame (replot of the pooled overview plus any
//     finer tile) of one pan step and one zoom step, and how long until the finer tile for
//     the new view is fetched and drawn. stories260K's trained weights with its context
//     raised in a copy of the llama2.c header (RoPE needs no table), else a random model of
//     its shape would be needed; without stories260K this part is skipped.
//
// attnscope-bench-explorer [--lengths 8192,32768] [--repeats 5] [--steps 20] [--skip-run]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>

#include "attnscope/model.h"
#include "bench_util.h"
#include "inspector_worker.h"
#include "main_window.h"
#include "metatypes.h"
#include "panels/attention_maps_panel.h"
#include "plot/attention_heatmap.h"
#include "token_strip.h"

using namespace attnscope;
using attnscope::app::MainWindow;
using attnscope::app::ModelRequest;

namespace {

const QString kSource = QStringLiteral(ATTNSCOPE_SOURCE_DIR);
const QString kShared = QStringLiteral(ATTNSCOPE_SOURCE_DIR "/../shared/models/stories260K");

std::string readFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) fail(ErrorKind::NotFound, "cannot read " + path.toStdString());
    return f.readAll().toStdString();
}

// The longest prefix of `text` (repeated as needed) that tokenizes to at most `tokens`.
std::string promptOfLength(const Model& model, const std::string& text, int64_t tokens) {
    std::string all = text;
    while (int64_t(model.tokenize(all, true).size()) < tokens) all += "\n\n" + text;
    size_t lo = 0, hi = all.size();
    while (lo + 1 < hi) {
        const size_t mid = (lo + hi) / 2;
        (int64_t(model.tokenize(all.substr(0, mid), true).size()) <= tokens ? lo : hi) = mid;
    }
    return all.substr(0, lo);
}

// Runs the event loop until `spy` has fired `count` times; seconds waited.
double waitFor(QSignalSpy& spy, int count, int timeoutMs) {
    QElapsedTimer t;
    t.start();
    while (spy.count() < count && t.elapsed() < timeoutMs) spy.wait(std::min<qint64>(1000, timeoutMs - t.elapsed()));
    if (spy.count() < count) fail(ErrorKind::Internal, "timed out waiting for the window");
    return t.nsecsElapsed() / 1e9;
}

// The worker that runs the model: the one that reports the "run" job.
app::InspectorWorker* modelWorker(MainWindow& w) { return w.findChild<app::InspectorWorker*>(QString(), Qt::FindDirectChildrenOnly); }

// Until the worker has been quiet for `quietMs` (background analyses done).
void waitIdle(MainWindow& w, int quietMs, int timeoutMs) {
    QSignalSpy finished(modelWorker(w), &app::InspectorWorker::jobFinished);
    QElapsedTimer total;
    total.start();
    while (total.elapsed() < timeoutMs) {
        const int before = finished.count();
        finished.wait(quietMs);
        if (finished.count() == before) return;
    }
}

void runToFirstHeatmap(int repeats, std::ostringstream& md) {
    const QString dir = kSource + "/resources/models/attnscope-tiny";
    OpenOptions o;
    o.path = dir.toStdString();
    auto model = Model::open(o);
    const std::string prompt = promptOfLength(*model, readFile(kSource + "/tests/data/heldout_slice.txt"), 1024);
    const auto ids = model->tokenize(prompt, true);
    const int64_t T = int64_t(ids.size());

    // The core alone: the window's trace policy, then the map it shows first (layer 0, mean of heads).
    RunOptions ro;
    ro.trace.keepPreRope = false;
    ro.trace.keepValues = false;
    ro.trace.keepLogits = false;
    std::vector<double> fwd, tile;
    for (int i = 0; i < repeats; ++i) {
        std::unique_ptr<Trace> trace;
        fwd.push_back(bench::seconds([&] { trace = model->run(ids, ro); }));
        tile.push_back(bench::seconds([&] { trace->attentionTile(0, -1, 0, T, 0, T); }));
    }
    model.reset();

    MainWindow w(/*interactive=*/false);
    w.resize(1600, 1000);
    w.show();
    w.setPromptText(QString::fromStdString(prompt));
    QSignalSpy shown(&w, &MainWindow::viewShown);
    w.openModel(ModelRequest{dir, {}});
    waitFor(shown, 1, 120000);
    std::vector<double> idle, busy, runDone;
    for (int i = 0; i < 2 * repeats; ++i) {
        const bool afterIdle = i % 2 == 0;
        if (afterIdle) waitIdle(w, 1500, 300000);  // the analyses of the last run are done
        QSignalSpy view(&w, &MainWindow::viewShown);
        QSignalSpy finished(modelWorker(w), &app::InspectorWorker::jobFinished);
        QElapsedTimer t;
        t.start();
        double ran = -1;
        QObject::connect(modelWorker(w), &app::InspectorWorker::jobFinished, &w, [&](const QString& tag) {
            if (tag == QLatin1String("run") && ran < 0) ran = t.nsecsElapsed() / 1e9;
        });
        w.runPrompt();
        waitFor(view, 1, 120000);
        w.repaint();  // the frame that puts it on screen
        const double s = t.nsecsElapsed() / 1e9;
        (afterIdle ? idle : busy).push_back(s);
        if (afterIdle) runDone.push_back(ran);
        QObject::disconnect(modelWorker(w), &app::InspectorWorker::jobFinished, &w, nullptr);
    }
    md << "## Run -> first heatmap: built-in model (attnscope-tiny), T = " << T << ", CPU, f32\n\n"
       << "Median of " << repeats << " runs each; layer 0, mean of heads, exact " << T << " x " << T << " map.\n\n"
       << "| what | seconds |\n|---|---|\n";
    char line[256];
    auto row = [&](const char* what, double v) {
        std::snprintf(line, sizeof line, "| %s | %.3f |\n", what, v);
        md << line;
    };
    row("core alone: forward + trace (window's policy)", bench::median(fwd));
    row("core alone: the map's exact tile (mean of 8 heads)", bench::median(tile));
    row("window, idle: Run -> run job delivered", bench::median(runDone));
    row("window, idle: Run -> heatmap on screen", bench::median(idle));
    row("window, analyses of the previous run still going: Run -> heatmap on screen", bench::median(busy));
    md << "\n";
}

// stories260K with its context raised to `context` (header field and the unused RoPE tables).
QString longContextStories(const QTemporaryDir& dir, int context) {
    QFile in(kShared + "/stories260K.bin");
    if (!in.open(QIODevice::ReadOnly)) return {};
    QByteArray bytes = in.readAll();
    int32_t header[7];
    std::memcpy(header, bytes.constData(), sizeof header);
    const int headDim = header[0] / header[3];
    const int64_t extra = int64_t(context - header[6]) * headDim * 4;  // real + imag halves
    header[6] = context;
    std::memcpy(bytes.data(), header, sizeof header);
    bytes.append(QByteArray(qsizetype(extra), '\0'));
    const QString path = dir.filePath(QStringLiteral("stories260K-ctx%1.bin").arg(context));
    QFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size()) return {};
    return path;
}

void panZoom(int64_t T, int steps, std::ostringstream& md) {
    QTemporaryDir tmp;
    const QString modelPath = longContextStories(tmp, int(T));
    if (modelPath.isEmpty()) {
        md << "## T = " << T << ": skipped (stories260K not found at " << kShared.toStdString() << ")\n\n";
        return;
    }
    const QString tokenizer = kShared + "/tok512.bin";
    OpenOptions o;
    o.path = modelPath.toStdString();
    o.tokenizerPath = tokenizer.toStdString();
    std::string prompt;
    {
        auto model = Model::open(o);
        prompt = promptOfLength(*model, readFile(kSource + "/tests/data/heldout_slice.txt"), T);
    }

    MainWindow w(/*interactive=*/false);
    w.resize(1600, 1000);
    w.show();
    w.setPromptText(QString::fromStdString(prompt));
    w.setLayerHead(2, -1);
    QSignalSpy shown(&w, &MainWindow::viewShown);
    QElapsedTimer clock;
    clock.start();
    w.openModel(ModelRequest{modelPath, tokenizer});
    waitFor(shown, 1, 3600000);
    const double firstMap = clock.nsecsElapsed() / 1e9;
    const int64_t tokens = w.attentionPanel()->tokenStrip()->count();
    widgets::AttentionHeatmap* map = w.attentionPanel()->heatmap();
    std::fprintf(stderr, "T=%lld: first map after %.1f s; waiting for the analyses\n", (long long)tokens, firstMap);
    waitIdle(w, 3000, 3600000);  // sinks statistics and head scores: not what is measured here

    QSignalSpy tiles(&w, &MainWindow::tileShown);
    // Which worker jobs run while tiles are awaited (stderr): what a late tile waited for.
    QElapsedTimer jobClock;
    jobClock.start();
    QObject::connect(w.worker(), &app::InspectorWorker::jobStarted, [&](const QString& tag) {
        std::fprintf(stderr, "  %8.0f ms  job started: %s\n", jobClock.nsecsElapsed() / 1e6, qPrintable(tag));
    });
    auto frame = [&] {  // one replot as the interaction triggers it, timed to the pixels
        QElapsedTimer t;
        t.start();
        map->replot(QCustomPlot::rpImmediateRefresh);
        return t.nsecsElapsed() / 1e6;
    };
    // How long until the finer tile for the current view is on screen (ms).
    auto tileLatency = [&](QElapsedTimer& since) {
        const int before = tiles.count();
        waitFor(tiles, before + 1, 600000);
        return since.nsecsElapsed() / 1e6;
    };
    // The GUI thread's share of a tile's arrival (colour cells filled, replot), replayed with
    // the tile just shown: the frame the user sees stall when a tile lands.
    std::vector<double> landFrames;
    auto landing = [&] {
        const Matrix2D tile = map->detail();
        const widgets::HeatmapExtent e = map->detailExtent();
        QElapsedTimer t;
        t.start();
        map->setDetail(tile, e);
        map->replot(QCustomPlot::rpImmediateRefresh);
        landFrames.push_back(t.nsecsElapsed() / 1e6);
    };

    // Zoom: from the whole prompt into a view 1/4 as wide, then 1/4 again ... each step a
    // wheel-like rescale around the centre, as QCustomPlot's zoom does.
    std::vector<double> zoomFrames, zoomTiles, panFrames, panTiles;
    std::vector<std::string> zoomViews;
    const int zoomSteps = 4;
    for (int z = 0; z < zoomSteps; ++z) {
        QElapsedTimer since;
        since.start();
        const double centre = double(tokens) * 0.6;
        map->xAxis->scaleRange(0.25, centre);
        map->yAxis->scaleRange(0.25, centre);
        zoomFrames.push_back(frame());
        zoomTiles.push_back(tileLatency(since));
        landing();
        const auto v = map->visibleExtent();
        zoomViews.push_back(std::to_string(v.q1 - v.q0) + " x " + std::to_string(v.k1 - v.k0) + " (" +
                            (map->detail().rows == v.q1 - v.q0 ? "exact" : "pooled " + std::to_string(map->detail().rows) + " x " +
                                                                                std::to_string(map->detail().cols)) +
                            ")");
    }
    // Pan: at the first zoom level deeper than the overview (1/4 of the prompt), one step of
    // a tenth of the view along the diagonal.
    map->setView({0, tokens, 0, tokens});
    map->xAxis->scaleRange(0.25, tokens * 0.5);
    map->yAxis->scaleRange(0.25, tokens * 0.5);
    {
        QElapsedTimer since;
        since.start();
        map->replot();
        tileLatency(since);
    }
    for (int s = 0; s < steps; ++s) {
        QElapsedTimer since;
        since.start();
        const double dx = map->xAxis->range().size() * 0.1 * (s % 2 == 0 ? 1 : -1);
        map->xAxis->moveRange(dx);
        map->yAxis->moveRange(dx);
        panFrames.push_back(frame());
        if (s < 4) {  // a few: each is a full recompute
            panTiles.push_back(tileLatency(since));
            landing();
        }
    }

    char line[512];
    md << "## Pan and zoom: stories260K (context raised to " << T << "), T = " << tokens << ", layer 2, mean of heads\n\n";
    std::snprintf(line, sizeof line, "Run -> first map (load, forward of %lld tokens, 512 x 512 block-max overview): %.1f s\n\n",
                  (long long)tokens, firstMap);
    md << line << "| step | frame median (ms) | frame max (ms) | finer tile on screen after, median (ms) |\n|---|---|---|---|\n";
    std::snprintf(line, sizeof line, "| zoom x4 (%d steps) | %.2f | %.2f | %.0f |\n", zoomSteps, bench::median(zoomFrames),
                  *std::max_element(zoomFrames.begin(), zoomFrames.end()), bench::median(zoomTiles));
    md << line;
    std::snprintf(line, sizeof line, "| pan 10%% of the view (%d steps) | %.2f | %.2f | %.0f |\n", steps, bench::median(panFrames),
                  *std::max_element(panFrames.begin(), panFrames.end()), bench::median(panTiles));
    md << line;
    std::snprintf(line, sizeof line, "| a finer tile lands (GUI thread: cells + replot, %zu tiles) | %.2f | %.2f | |\n",
                  landFrames.size(), bench::median(landFrames), *std::max_element(landFrames.begin(), landFrames.end()));
    md << line << "\nFrame = `QCustomPlot::replot(rpImmediateRefresh)` timed on the GUI thread (layers drawn and "
                  "the widget repainted offscreen), right after the axis ranges change as a wheel zoom or drag does.\n";
    md << "\nZoom levels and the tile fetched for each: ";
    for (size_t i = 0; i < zoomViews.size(); ++i) {
        std::snprintf(line, sizeof line, "%s%s: %.0f ms", i ? "; " : "", zoomViews[i].c_str(), zoomTiles[i]);
        md << line;
    }
    md << "\n\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication qapp(argc, argv);
    widgets::registerMetaTypes();
    const std::string lengths = bench::arg(argc, argv, "--lengths", "8192,32768");
    const int repeats = std::stoi(bench::arg(argc, argv, "--repeats", "5"));
    const int steps = std::stoi(bench::arg(argc, argv, "--steps", "20"));
    bool skipRun = false;
    for (int i = 1; i < argc; ++i) skipRun = skipRun || std::string(argv[i]) == "--skip-run";
    try {
        std::ostringstream md;
        md << "# attnscope-bench-explorer: the main window offscreen at 1600 x 1000, CPU\n\n";
        if (!skipRun) runToFirstHeatmap(repeats, md);
        std::stringstream ls(lengths);
        for (std::string t; std::getline(ls, t, ',');)
            if (!t.empty()) {
                panZoom(std::stoll(t), steps, md);
                std::fputs(md.str().c_str(), stderr);  // progress: long lengths take minutes
            }
        std::fputs(md.str().c_str(), stdout);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "attnscope-bench-explorer: %s\n", e.what());
        return 1;
    }
    return 0;
}
