// The analyses behind the docked panels, as plain functions that run on the worker thread
// (suffix OnWorker) and return plain results for the GUI.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "attnscope/analyses/sinks.h"
#include "attnscope/analyses/weibull.h"
#include "inspector_worker.h"
#include "models/head_scores.h"

namespace attnscope::app {

// Up to this many query rows the previous-token and diagonal scores use every row; above
// it, evenly spaced blocks of rows adding up to it (tiles are exact, rows are sampled).
inline constexpr int64_t kHeadScoreRows = 4096;

struct SinkJobResult {
    std::shared_ptr<const SinkResult> result;
    double inputsMs = -1;  // time spent on the statistics, -1 when reused
    double classifyMs = 0;
};

// Classifies with `params`, computing the statistics first when the worker holds none for
// this trace or they do not fit the parameters (another minimum query position).
SinkJobResult sinksOnWorker(JobContext& context, const SinkParams& params);
widgets::HeadScoreTable headScoresOnWorker(JobContext& context);
std::vector<WeibullMatrixFit> weibullFitsOnWorker(JobContext& context, const WeibullParams& params);
WeibullPlot weibullPlotOnWorker(JobContext& context, const std::string& name, const WeibullParams& params);

}  // namespace attnscope::app
