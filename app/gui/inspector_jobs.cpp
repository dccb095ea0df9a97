#include "inspector_jobs.h"

#include <algorithm>

#include "attnscope/error.h"

namespace attnscope::app {

ModelInfo loadModelOnWorker(JobContext& context, const ModelRequest& request) {
    OpenOptions options;
    options.path = request.path.toStdString();
    options.tokenizerPath = request.tokenizer.toStdString();
    options.device = request.device;
    options.dtype = request.dtype;
    return context.inspector().open(options);  // frees the old model first
}

PromptInfo runPromptOnWorker(JobContext& context, const std::string& prompt) {
    Inspector& inspector = context.inspector();
    // The last trace stays until the new one exists, so a failed (out of memory) or cancelled
    // run leaves the previous results on screen and explorable; that costs one extra trace
    // of memory while the run goes.
    return inspector.setPrompt(inspector.tokenize(prompt, /*addSpecial=*/true), context.job());
}

ViewResult computeViewOnWorker(JobContext& context, int layer, int head, Pool pool, int selected,
                               bool selectedAsKey) {
    const Inspector& inspector = context.inspector();
    const int64_t T = inspector.trace().length();
    ViewResult view;
    view.layer = layer;
    view.head = head;
    view.pool = pool;
    view.extent = {0, T, 0, T};
    view.matrix = T <= kExactMapLimit
                      ? inspector.attentionTile(layer, head, 0, T, 0, T)
                      : inspector.overview(layer, head, 0, T, 0, T, kOverviewCells, kOverviewCells, pool);
    if (selected >= 0 && selected < T) {
        view.selected = selected;
        view.selectedAsKey = selectedAsKey;
        view.tokenValues = inspector.tokenAttention(layer, head, selected, selectedAsKey);
    }
    return view;
}

ViewResult computeTileOnWorker(JobContext& context, int layer, int head, Pool pool,
                               const widgets::HeatmapExtent& visible, int pixelWidth, int pixelHeight) {
    const Inspector& inspector = context.inspector();
    const int64_t T = inspector.trace().length();
    const widgets::HeatmapExtent e{std::clamp<int64_t>(visible.q0, 0, T), std::clamp<int64_t>(visible.q1, 0, T),
                                   std::clamp<int64_t>(visible.k0, 0, T), std::clamp<int64_t>(visible.k1, 0, T)};
    if (e.q1 <= e.q0 || e.k1 <= e.k0) fail(ErrorKind::BadInput, "Empty view");
    const int64_t nq = e.q1 - e.q0, nk = e.k1 - e.k0;
    const int64_t rows = std::clamp<int64_t>(pixelHeight, 16, 2048), cols = std::clamp<int64_t>(pixelWidth, 16, 2048);
    ViewResult view;
    view.layer = layer;
    view.head = head;
    view.pool = pool;
    view.extent = e;
    if (nq * nk <= kExactTileCells || (nq <= rows && nk <= cols))
        view.matrix = inspector.attentionTile(layer, head, e.q0, e.q1, e.k0, e.k1);
    else
        view.matrix = inspector.overview(layer, head, e.q0, e.q1, e.k0, e.k1, int(std::min(nq, rows)),
                                         int(std::min(nk, cols)), pool);
    return view;
}

std::vector<float> tokenAttentionOnWorker(JobContext& context, int layer, int head, int token, bool asKey) {
    return context.inspector().tokenAttention(layer, head, token, asKey);
}

bool cudaAvailableOnWorker() { return cudaAvailable(); }

}  // namespace attnscope::app
