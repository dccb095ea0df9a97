#include "inspector_jobs.h"

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
    context.state.trace.reset();
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

ViewResult computeViewOnWorker(JobContext& context, int layer, int head, int selected) {
    const Trace& trace = currentTrace(context);
    const int64_t T = trace.length();
    ViewResult view;
    view.layer = layer;
    view.head = head;
    view.extent = {0, T, 0, T};
    view.matrix = T <= kExactMapLimit
                      ? trace.attentionTile(layer, head, 0, T, 0, T)
                      : trace.overview(layer, head, 0, T, 0, T, kOverviewCells, kOverviewCells, Pool::Max);
    if (selected >= 0 && selected < T) {
        view.selected = selected;
        view.row = trace.attentionTile(layer, head, selected, selected + 1, 0, T).data;
    }
    return view;
}

std::vector<float> attentionRowOnWorker(JobContext& context, int layer, int head, int query) {
    const Trace& trace = currentTrace(context);
    if (query < 0 || query >= trace.length()) fail(ErrorKind::BadInput, "No such token");
    return trace.attentionTile(layer, head, query, query + 1, 0, trace.length()).data;
}

bool cudaAvailableOnWorker() { return cudaAvailable(); }

}  // namespace attnscope::app
