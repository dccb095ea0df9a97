// attnscope-bench-a3-panel: what a rank edit costs in the A^3 panel (issue 18: <= 50 ms on the
// built-in model), offscreen.
//
//   QT_QPA_PLATFORM=offscreen attnscope-bench-a3-panel [--edits 200] [--screenshot FILE.png]
//
// The built-in model on tests/data/heldout_slice.txt: the panel's sweep once (the registry's
// "a3" section, as the GUI computes it), then every rank edit = A3Panel::setView at another
// fraction (map, curves, savings and summary rebuilt and replotted) plus a synchronous repaint
// of the panel. Milliseconds: median and maximum over the edits.
#include <QApplication>
#include <QCheckBox>
#include <QElapsedTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "attnscope/analysis_registry.h"
#include "bench_util.h"
#include "attnscope/inspector.h"
#include "panels/a3_panel.h"

using namespace attnscope;

int main(int argc, char** argv) try {
    QApplication app(argc, argv);
    const int edits = std::max(1, std::atoi(bench::arg(argc, argv, "--edits", "200").c_str()));
    const QString screenshot = QString::fromStdString(bench::arg(argc, argv, "--screenshot", ""));
    Inspector inspector;
    inspector.setPromptIds(bench::openOnHeldOut(inspector, ATTNSCOPE_SOURCE_DIR "/resources/models/attnscope-tiny",
                                                ATTNSCOPE_SOURCE_DIR));
    const auto t0 = std::chrono::steady_clock::now();
    const SessionSection section = findAnalysis("a3").compute(inspector, Options{}, Session{}, {});
    const double sweepS = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const A3Result r = decodeA3(section);

    widgets::A3Panel panel;
    panel.resize(560, 900);
    panel.show();
    panel.setResult(r);
    app.processEvents();
    std::vector<double> ms;
    const size_t F = r.fractions.size();
    for (int e = 0; e < edits; ++e) {
        QElapsedTimer t;
        t.start();
        panel.setView(e % r.nLayers, widgets::kAllA3Components[size_t(e % 3)], size_t(e) % F, widgets::A3Metric::HeldOut,
                      widgets::A3MapMode::A3);
        panel.repaint();
        ms.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("# attnscope-bench-a3-panel: the built-in model on heldout_slice.txt (%lld calibration tokens, "
                "%lld held out), offscreen\n\n",
                (long long)r.calibTokens, (long long)r.heldOutRows);
    std::printf("| step | value |\n|---|---|\n");
    std::printf("| the panel's sweep (%zu fractions, once per prompt) | %.2f s |\n", F, sweepS);
    std::printf("| rank edit -> redraw, median of %d | %.1f ms |\n", edits, ms[ms.size() / 2]);
    std::printf("| rank edit -> redraw, max | %.1f ms |\n", ms.back());
    if (!screenshot.isEmpty()) {  // the end-to-end tab at 50% QK and OV, as a user would evaluate it
        panel.setView(2, A3Component::QK, 5, widgets::A3Metric::HeldOut, widgets::A3MapMode::A3);
        for (QCheckBox* box : panel.findChildren<QCheckBox*>())  // the user's clicks: QK and OV only
            if (box->text() == QLatin1String("MLP")) box->setChecked(false);
        const QStringList list = panel.endToEndProfile();  // the slider's rank: 50%
        Options po;
        for (qsizetype i = 0; i + 1 < list.size(); i += 2) po.set(list[i].toStdString(), list[i + 1].toStdString());
        const A3EndToEnd e = inspector.a3EndToEnd(A3Request{}, a3ProfileFrom(r, po), 16);
        panel.setEndToEnd(e, QString::fromStdString(inspector.decode(e.continuationFull)),
                          QString::fromStdString(inspector.decode(e.continuation)));
        panel.showEndToEndTab();
        app.processEvents();
        if (!panel.grab().save(screenshot)) std::fprintf(stderr, "cannot write %s\n", qPrintable(screenshot));
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench-a3-panel: %s\n", e.what());
    return 1;
}
