// The analyses behind the docked panels, as plain functions that run on the worker thread
// (suffix OnWorker) and return plain results for the GUI.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "inspector_worker.h"
#include "models/head_scores.h"

namespace attnscope::app {

struct SinkJobResult {
    std::shared_ptr<const SinkInputs> inputs;  // reused by later re-classifications
    std::shared_ptr<const SinkResult> result;
    double inputsMs = -1;  // time spent on the statistics, -1 when reused
    double classifyMs = 0;
};

// The statistics of the current trace for params.minQueryPos, then the classification.
SinkJobResult sinksOnWorker(JobContext& context, const SinkParams& params);
// Classification alone: pure and fast, needs no model or trace (any thread).
SinkJobResult classifySinksJob(std::shared_ptr<const SinkInputs> inputs, const SinkParams& params);

// The head-role detectors of one layer (default parameters: the CLI's and sessions' too; core's
// definitions, head_scores.h) and the grid's thumbnails:
// the app asks layer by layer, so re-classifications queued meanwhile wait for one layer at most.
struct HeadLayerJob {
    HeadLayerScores scores;
    std::vector<Matrix2D> thumbnails;  // [heads]: block-max maps of at most kHeadThumbnailCells^2
};
inline constexpr int kHeadThumbnailCells = 32;
HeadLayerJob headScoresOnWorker(JobContext& context, int layer);
std::vector<WeibullMatrixFit> weibullFitsOnWorker(JobContext& context, const WeibullParams& params);
WeibullPlot weibullPlotOnWorker(JobContext& context, const std::string& name, const WeibullParams& params);

}  // namespace attnscope::app
