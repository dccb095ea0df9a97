#include "analysis_jobs.h"

#include <algorithm>
#include <chrono>

#include "attnscope/error.h"

namespace attnscope::app {
namespace {

constexpr int64_t kBlock = 256;  // query rows per diagonal tile

const Trace& currentTrace(JobContext& context) {
    if (!context.state.trace) fail(ErrorKind::BadInput, "Run a prompt first");
    return *context.state.trace;
}

const Model& currentModel(JobContext& context) {
    if (!context.state.model) fail(ErrorKind::BadInput, "Open a model first");
    return *context.state.model;
}

double msSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

void checkStop(const JobContext& context) {
    if (context.stop.stop_requested()) fail(ErrorKind::Cancelled, "Cancelled");
}

// Query-row blocks [q0, q1) for the diagonal scores: all rows, or evenly spaced blocks.
std::vector<std::pair<int64_t, int64_t>> diagonalBlocks(int64_t T) {
    std::vector<std::pair<int64_t, int64_t>> blocks;
    if (T <= kHeadScoreRows) {
        for (int64_t q0 = 0; q0 < T; q0 += kBlock) blocks.emplace_back(q0, std::min(T, q0 + kBlock));
        return blocks;
    }
    const int64_t n = kHeadScoreRows / kBlock;
    for (int64_t b = 0; b < n; ++b) {
        const int64_t q0 = b * (T - kBlock) / (n - 1);
        blocks.emplace_back(q0, q0 + kBlock);
    }
    return blocks;
}

}  // namespace

SinkJobResult sinksOnWorker(JobContext& context, const SinkParams& params) {
    const Trace& trace = currentTrace(context);
    const auto start = std::chrono::steady_clock::now();
    SinkInputOptions options;
    options.stop = context.stop;
    options.progress = context.progress;
    auto inputs = std::make_shared<const SinkInputs>(computeSinkInputs(trace, params.minQueryPos, options));
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

HeadLayerScores headScoresOnWorker(JobContext& context, int layer) {
    const Trace& trace = currentTrace(context);
    const int64_t T = trace.length();
    const int H = trace.nHeads();
    if (layer < 0 || layer >= trace.nLayers()) fail(ErrorKind::BadInput, "No such layer");
    HeadLayerScores out;
    out.layer = layer;
    for (std::vector<float>* v : {&out.entropy, &out.firstToken, &out.previousToken, &out.diagonal}) v->resize(size_t(H));
    const auto blocks = diagonalBlocks(T);
    for (const auto& [q0, q1] : blocks) out.sampledRows += q1 - q0;
    const std::vector<HeadStats> stats = trace.layerStats(layer, StatsOptions{});
    for (int h = 0; h < H; ++h) {
        checkStop(context);
        const HeadStats& s = stats[size_t(h)];
        double entropy = 0;
        for (float e : s.entropy) entropy += e;
        out.entropy[size_t(h)] = float(entropy / double(std::max<int64_t>(T, 1)));
        out.firstToken[size_t(h)] = s.colMeanCausal.empty() ? 0.f : s.colMeanCausal[0];
        // A[i, i] and A[i, i-1] from exact tiles along the diagonal.
        double diag = 0, prev = 0;
        int64_t nDiag = 0, nPrev = 0;
        for (const auto& [q0, q1] : blocks) {
            const int64_t k0 = std::max<int64_t>(0, q0 - 1);
            const Matrix2D tile = trace.attentionTile(layer, h, q0, q1, k0, q1);
            for (int64_t i = q0; i < q1; ++i) {
                diag += tile.at(i - q0, i - k0);
                ++nDiag;
                if (i == 0) continue;
                prev += tile.at(i - q0, i - 1 - k0);
                ++nPrev;
            }
        }
        out.diagonal[size_t(h)] = float(diag / double(std::max<int64_t>(nDiag, 1)));
        out.previousToken[size_t(h)] = float(prev / double(std::max<int64_t>(nPrev, 1)));
        const int cells = int(std::min<int64_t>(T, kHeadThumbnailCells));
        out.thumbnails.push_back(trace.overview(layer, h, 0, T, 0, T, cells, cells, Pool::Max));
        context.progress(double(h + 1) / double(H));
    }
    return out;
}

std::vector<WeibullMatrixFit> weibullFitsOnWorker(JobContext& context, const WeibullParams& params) {
    return fitModelWeights(currentModel(context), params);
}

WeibullPlot weibullPlotOnWorker(JobContext& context, const std::string& name, const WeibullParams& params) {
    const Matrix2D m = currentModel(context).weightMatrix(name);
    return weibullPlot(m.data.data(), m.data.size(), params);
}

}  // namespace attnscope::app
