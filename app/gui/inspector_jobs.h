// The work the GUI asks of the model, as plain functions that run on the worker thread
// (suffix OnWorker) and return plain results for the GUI.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "attnscope/model.h"
#include "attnscope/views.h"
#include "inspector_worker.h"
#include "model_locator.h"
#include "plot/attention_heatmap.h"

namespace attnscope::app {

// Up to this many tokens the map shows every query x key exactly; above it, a block
// maximum over kOverviewCells x kOverviewCells cells (exact per block, nothing sampled).
inline constexpr int64_t kExactMapLimit = 2048;
inline constexpr int kOverviewCells = 512;

struct RunResult {
    TokenStrip tokens;
    int64_t length = 0;
    int nLayers = 0;
    int nHeads = 0;
    int64_t traceBytes = 0;
};

struct ViewResult {
    int layer = 0;
    int head = -1;
    Matrix2D matrix;
    widgets::HeatmapExtent extent;
    int selected = -1;       // the selected query token, or -1
    std::vector<float> row;  // the attention it pays to every key
};

ModelInfo loadModelOnWorker(JobContext& context, const ModelRequest& request);
RunResult runPromptOnWorker(JobContext& context, const std::string& prompt);
ViewResult computeViewOnWorker(JobContext& context, int layer, int head, int selected);
std::vector<float> attentionRowOnWorker(JobContext& context, int layer, int head, int query);
bool cudaAvailableOnWorker();

}  // namespace attnscope::app
