#include "analysis_jobs.h"

#include <algorithm>
#include <chrono>

#include "attnscope/error.h"
#include "timing.h"

namespace attnscope::app {

SinkJobResult sinksOnWorker(JobContext& context, const SinkParams& params) {
    const auto start = std::chrono::steady_clock::now();
    std::shared_ptr<const SinkInputs> inputs = context.inspector().sinkInputs(params, context.job());
    const double inputsMs = msSince(start);
    SinkJobResult out = classifySinksJob(std::move(inputs), params);
    out.inputsMs = inputsMs;
    return out;
}

SinkJobResult classifySinksJob(std::shared_ptr<const SinkInputs> inputs, const SinkParams& params) {
    SinkJobResult out;
    const auto start = std::chrono::steady_clock::now();
    out.result = std::make_shared<const SinkResult>(classifySinks(*inputs, params));
    out.classifyMs = msSince(start);
    out.inputs = std::move(inputs);
    return out;
}

HeadLayerJob headScoresOnWorker(JobContext& context, int layer) {
    Inspector& inspector = context.inspector();
    HeadLayerJob out;
    out.scores = inspector.headScores(layer, HeadDetectorParams{}, context.job());
    const int64_t T = inspector.trace().length();
    const int cells = int(std::min<int64_t>(T, kHeadThumbnailCells));
    for (int h = 0; h < inspector.trace().nHeads(); ++h) {
        context.job().check();
        out.thumbnails.push_back(inspector.overview(layer, h, 0, T, 0, T, cells, cells, Pool::Max));
    }
    return out;
}

std::vector<WeibullMatrixFit> weibullFitsOnWorker(JobContext& context, const WeibullParams& params) {
    return context.inspector().weibullFits(params, context.job());
}

WeibullPlot weibullPlotOnWorker(JobContext& context, const std::string& name, const WeibullParams& params) {
    return context.inspector().weibullPlot(name, params);
}

}  // namespace attnscope::app
