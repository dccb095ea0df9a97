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
// A zoomed view gets an exact tile when it shows at most this many query x key cells, or
// at least one pixel per token; otherwise a pooled tile at about one cell per pixel.
inline constexpr int64_t kExactTileCells = 512 * 512;

struct ViewResult {
    int layer = 0;
    int head = -1;
    Pool pool = Pool::Max;
    Matrix2D matrix;
    widgets::HeatmapExtent extent;
    int selected = -1;          // the selected token, or -1
    bool selectedAsKey = false;
    std::vector<float> tokenValues;  // its row (as query) or column (as key)
};

ModelInfo loadModelOnWorker(JobContext& context, const ModelRequest& request);
PromptInfo runPromptOnWorker(JobContext& context, const std::string& prompt);
// The whole prompt's map: exact up to kExactMapLimit tokens, else a pooled overview.
ViewResult computeViewOnWorker(JobContext& context, int layer, int head, Pool pool, int selected,
                               bool selectedAsKey);
// A finer map of `visible` for a zoomed view of a pooled overview (see kExactTileCells).
ViewResult computeTileOnWorker(JobContext& context, int layer, int head, Pool pool,
                               const widgets::HeatmapExtent& visible, int pixelWidth, int pixelHeight);
// The attention token `token` pays to every key (asKey false) or receives from every query.
std::vector<float> tokenAttentionOnWorker(JobContext& context, int layer, int head, int token, bool asKey);
bool cudaAvailableOnWorker();

}  // namespace attnscope::app
