// attnscope-bench-variants-panel: what a live parameter edit costs in the attention-variants
// panel, compute and redraw together (issue 19: <= 100 ms at 1K tokens on CPU), offscreen.
//
//   QT_QPA_PLATFORM=offscreen attnscope-bench-variants-panel [--edits 5] [--tokens 1024]
//
// The built-in model on tests/data/heldout_slice.txt. Per variant, every edit = the job the dock
// runs (Inspector::variantHead: one head's softmax and variant maps of the view, outputs, row
// entropies and metrics) and the panel's answer (VariantsPanel::setPair: the three maps, the
// entropy curves and the summary rebuilt and replotted) plus a synchronous repaint. Milliseconds,
// median over the edits.
#include <QApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "attnscope/analyses/variants.h"
#include "attnscope/inspector.h"
#include "panels/variants_panel.h"

using namespace attnscope;
using attnscope::bench::median;

int main(int argc, char** argv) try {
    QApplication app(argc, argv);
    const int edits = std::max(1, std::atoi(bench::arg(argc, argv, "--edits", "5").c_str()));
    const size_t tokens = size_t(std::max(2, std::atoi(bench::arg(argc, argv, "--tokens", "1024").c_str())));
    Inspector inspector;
    const std::vector<int32_t> ids = bench::openOnHeldOut(
        inspector, ATTNSCOPE_SOURCE_DIR "/resources/models/attnscope-tiny", ATTNSCOPE_SOURCE_DIR, tokens);
    inspector.setPromptIds(ids);
    const int layer = 1;
    inspector.variantHead(layer, 0, {"softmax", {}});  // the trace, once

    widgets::VariantsPanel panel;
    panel.resize(900, 1000);
    panel.setCatalog(variantInfos());
    panel.show();
    app.processEvents();
    std::printf("# attnscope-bench-variants-panel: the built-in model on heldout_slice.txt, %zu tokens, layer %d, "
                "cpu, offscreen\n\n",
                ids.size(), layer);
    std::printf("Milliseconds per parameter edit, median of %d.\n\n", edits);
    std::printf("| variant | compute (job) | redraw (panel) | edit total |\n|---|---|---|---|\n");
    for (const VariantInfo& v : variantInfos()) {
        std::vector<double> compute, redraw, total;
        for (int e = 0; e < edits; ++e) {
            QElapsedTimer t;
            t.start();
            const VariantHeadPair pair = inspector.variantHead(layer, e % 8, {v.name, {}});
            const double c = double(t.nsecsElapsed()) / 1e6;
            panel.setPair(pair);
            panel.repaint();
            const double all = double(t.nsecsElapsed()) / 1e6;
            compute.push_back(c), redraw.push_back(all - c), total.push_back(all);
        }
        std::printf("| %s | %.1f | %.1f | %.1f |\n", v.name.c_str(), median(compute), median(redraw), median(total));
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench-variants-panel: %s\n", e.what());
    return 1;
}
