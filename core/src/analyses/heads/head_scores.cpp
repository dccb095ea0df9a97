// The head grid's scores from one exact statistics pass per layer (head_scores.h).
#include "attnscope/analyses/head_scores.h"

#include <algorithm>

#include "attnscope/error.h"
#include "attnscope/trace.h"

namespace attnscope {
namespace {

float meanOf(const std::vector<float>& v, size_t from) {
    double sum = 0;
    for (size_t i = from; i < v.size(); ++i) sum += v[i];
    return v.size() > from ? float(sum / double(v.size() - from)) : 0.f;
}

}  // namespace

HeadLayerScores computeHeadLayerScores(const Trace& trace, int layer, const JobControl& job) {
    if (layer < 0 || layer >= trace.nLayers())
        fail(ErrorKind::BadInput,
             "layer " + std::to_string(layer) + " out of range (model has " + std::to_string(trace.nLayers()) + ")");
    StatsOptions options;  // min query position 0: the first-token score is the causal mean of A[i, 0]
    options.diagonal = true;
    options.job.stop = job.stop;  // progress is per layer, the caller's
    const std::vector<HeadStats> stats = trace.layerStats(layer, options);
    HeadLayerScores out;
    out.layer = layer;
    for (const HeadStats& s : stats) {
        out.entropy.push_back(meanOf(s.entropy, 0));
        out.firstToken.push_back(s.colMeanCausal.empty() ? 0.f : s.colMeanCausal[0]);
        out.previousToken.push_back(meanOf(s.previous, 1));  // rows i >= 1 have a previous token
        out.diagonal.push_back(meanOf(s.diagonal, 0));
    }
    return out;
}

HeadScores emptyHeadScores(const Trace& trace) {
    HeadScores h;
    h.nLayers = trace.nLayers();
    h.nHeads = trace.nHeads();
    h.tokens = h.sampledRows = trace.length();
    for (std::vector<float>* v : {&h.entropy, &h.firstToken, &h.previousToken, &h.diagonal})
        v->assign(size_t(h.nLayers) * size_t(h.nHeads), 0.f);
    return h;
}

void mergeHeadLayer(HeadScores& table, const HeadLayerScores& layer) {
    if (layer.layer < 0 || layer.layer >= table.nLayers || int(layer.entropy.size()) != table.nHeads)
        fail(ErrorKind::BadInput, "head scores: layer does not fit the table");
    const size_t at = size_t(layer.layer) * size_t(table.nHeads);
    std::copy(layer.entropy.begin(), layer.entropy.end(), table.entropy.begin() + ptrdiff_t(at));
    std::copy(layer.firstToken.begin(), layer.firstToken.end(), table.firstToken.begin() + ptrdiff_t(at));
    std::copy(layer.previousToken.begin(), layer.previousToken.end(), table.previousToken.begin() + ptrdiff_t(at));
    std::copy(layer.diagonal.begin(), layer.diagonal.end(), table.diagonal.begin() + ptrdiff_t(at));
}

HeadScores computeHeadScores(const Trace& trace, const JobControl& job) {
    HeadScores table = emptyHeadScores(trace);
    for (int l = 0; l < table.nLayers; ++l) {
        job.check();
        mergeHeadLayer(table, computeHeadLayerScores(
                                  trace, l, job.part(double(l) / table.nLayers, double(l + 1) / table.nLayers)));
        job.report(double(l + 1) / table.nLayers);
    }
    return table;
}

}  // namespace attnscope
