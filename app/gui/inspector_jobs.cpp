#include "inspector_jobs.h"

#include <algorithm>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"

namespace attnscope::app {
namespace {

Trace& currentTrace(JobContext& context) {
    if (!context.state.trace) fail(ErrorKind::BadInput, "Run a prompt first");
    return *context.state.trace;
}

}  // namespace

ModelInfo loadModelOnWorker(JobContext& context, const ModelRequest& request) {
    // Free the old model first: two large models may not fit at once.
    context.state.trace.reset();
    context.state.model.reset();
    OpenOptions options;
    options.path = request.path.toStdString();
    options.tokenizerPath = request.tokenizer.toStdString();
    options.device = request.device;
    options.dtype = request.dtype;
    context.state.model = Model::open(options);
    return context.state.model->info();
}

RunResult runPromptOnWorker(JobContext& context, const std::string& prompt) {
    Model* model = context.state.model.get();
    if (!model) fail(ErrorKind::BadInput, "Open a model first");
    // The last trace stays until the new one exists, so a failed (out of memory) or cancelled
    // run leaves the previous results on screen and explorable; that costs one extra trace
    // of memory while the run goes.
    const std::vector<int32_t> ids = model->tokenize(prompt, /*addSpecial=*/true);

    RunOptions options;
    // Attention views need q/k; the sinks panel also needs the residual stream leaving each
    // layer (hidden-state cosines) and the MLP outputs. Nothing else is kept.
    options.trace.keepResidual = true;
    options.trace.keepPreRope = false;
    options.trace.keepValues = false;
    options.trace.keepMlp = true;
    options.trace.keepLogits = false;
    options.stop = context.stop;
    options.progress = context.progress;
    std::unique_ptr<Trace> trace = model->run(ids, options);

    RunResult result;
    result.tokens.ids = trace->ids();
    const Tokenizer* tokenizer = model->tokenizer();
    for (int32_t id : result.tokens.ids)
        result.tokens.pieces.push_back(tokenizer ? tokenizer->piece(id) : "#" + std::to_string(id));
    result.length = trace->length();
    result.nLayers = trace->nLayers();
    result.nHeads = trace->nHeads();
    result.traceBytes = trace->memoryBytes();
    context.state.trace = std::move(trace);
    return result;
}

ViewResult computeViewOnWorker(JobContext& context, int layer, int head, Pool pool, int selected,
                               bool selectedAsKey) {
    const Trace& trace = currentTrace(context);
    const int64_t T = trace.length();
    ViewResult view;
    view.layer = layer;
    view.head = head;
    view.pool = pool;
    view.extent = {0, T, 0, T};
    view.matrix = T <= kExactMapLimit
                      ? trace.attentionTile(layer, head, 0, T, 0, T)
                      : trace.overview(layer, head, 0, T, 0, T, kOverviewCells, kOverviewCells, pool);
    if (selected >= 0 && selected < T) {
        view.selected = selected;
        view.selectedAsKey = selectedAsKey;
        view.tokenValues = tokenAttentionOnWorker(context, layer, head, selected, selectedAsKey);
    }
    return view;
}

ViewResult computeTileOnWorker(JobContext& context, int layer, int head, Pool pool,
                               const widgets::HeatmapExtent& visible, int pixelWidth, int pixelHeight) {
    const Trace& trace = currentTrace(context);
    const int64_t T = trace.length();
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
        view.matrix = trace.attentionTile(layer, head, e.q0, e.q1, e.k0, e.k1);
    else
        view.matrix = trace.overview(layer, head, e.q0, e.q1, e.k0, e.k1, int(std::min(nq, rows)),
                                     int(std::min(nk, cols)), pool);
    return view;
}

std::vector<float> tokenAttentionOnWorker(JobContext& context, int layer, int head, int token, bool asKey) {
    const Trace& trace = currentTrace(context);
    const int64_t T = trace.length();
    if (token < 0 || token >= T) fail(ErrorKind::BadInput, "No such token");
    // Queries before a key cannot see it: its column starts at the key itself.
    if (!asKey) return trace.attentionTile(layer, head, token, token + 1, 0, T).data;
    std::vector<float> column(size_t(T), 0.f);
    const Matrix2D below = trace.attentionTile(layer, head, token, T, token, token + 1);
    std::copy(below.data.begin(), below.data.end(), column.begin() + token);
    return column;
}

bool cudaAvailableOnWorker() { return cudaAvailable(); }

}  // namespace attnscope::app
