// The expensive half of the sinks analysis: per-head causal mean attention of every layer
// (the trace's exact two-pass statistics, never the T x T matrix) and the geometry of the
// hidden states and MLP outputs against the candidate BOS positions.
#include <algorithm>
#include <cmath>
#include <string>

#include "attnscope/analyses/sinks.h"
#include "attnscope/error.h"
#include "attnscope/trace.h"

namespace attnscope {

namespace {

// Median of `v` (reordered in place); the mean of the two middle values for even sizes.
float medianInPlace(std::vector<float>& v) {
    if (v.empty()) return 0.f;
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(mid), v.end());
    const float upper = v[mid];
    if (v.size() % 2 == 1) return upper;
    const float lower = *std::max_element(v.begin(), v.begin() + std::ptrdiff_t(mid));
    return 0.5f * (lower + upper);
}

// One captured [T, D] tensor of a layer, or nothing when the trace policy dropped it.
bool tryCaptured(const Trace& trace, Capture what, int layer, std::vector<float>& out, int64_t& cols) {
    try {
        Matrix2D m = trace.captured(what, layer);
        cols = m.cols;
        out = std::move(m.data);
        return true;
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotFound) throw;
        return false;
    }
}

void appendGeometry(const LayerGeometry& g, int layer, int nLayers, int64_t T, std::vector<float>& norm,
                    std::vector<float>* maxAbs, std::vector<float>* medianAbs, std::vector<float>& cos) {
    const size_t R = g.cos.size() / size_t(T);
    std::copy(g.norm.begin(), g.norm.end(), norm.begin() + std::ptrdiff_t(layer * T));
    if (maxAbs) std::copy(g.maxAbs.begin(), g.maxAbs.end(), maxAbs->begin() + std::ptrdiff_t(layer * T));
    if (medianAbs) (*medianAbs)[size_t(layer)] = g.medianAbs;
    for (size_t r = 0; r < R; ++r)
        std::copy(g.cos.begin() + std::ptrdiff_t(r * size_t(T)), g.cos.begin() + std::ptrdiff_t((r + 1) * size_t(T)),
                  cos.begin() + std::ptrdiff_t((int64_t(r) * nLayers + layer) * T));
}

}  // namespace

LayerGeometry layerGeometry(std::vector<float>& values, int64_t T, int64_t D,
                            const std::vector<int64_t>& references) {
    if (T <= 0 || D <= 0 || int64_t(values.size()) != T * D)
        fail(ErrorKind::BadInput, "layerGeometry: values must hold T x D floats");
    LayerGeometry g;
    g.norm.resize(size_t(T));
    g.maxAbs.resize(size_t(T));
    for (int64_t t = 0; t < T; ++t) {
        const float* row = values.data() + t * D;
        double ss = 0;
        float mx = 0;
        for (int64_t c = 0; c < D; ++c) {
            ss += double(row[c]) * double(row[c]);
            mx = std::max(mx, std::abs(row[c]));
        }
        g.norm[size_t(t)] = float(std::sqrt(ss));
        g.maxAbs[size_t(t)] = mx;
    }
    g.cos.assign(references.size() * size_t(T), 0.f);
    for (size_t r = 0; r < references.size(); ++r) {
        const int64_t p = references[r];
        if (p < 0 || p >= T) fail(ErrorKind::BadInput, "layerGeometry: reference position out of range");
        const float* ref = values.data() + p * D;
        const double refNorm = g.norm[size_t(p)];
        for (int64_t t = 0; t < T; ++t) {
            const float* row = values.data() + t * D;
            double dot = 0;
            for (int64_t c = 0; c < D; ++c) dot += double(row[c]) * double(ref[c]);
            const double den = refNorm * double(g.norm[size_t(t)]);
            // A zero vector has no direction: call it orthogonal rather than NaN.
            g.cos[r * size_t(T) + size_t(t)] = den > 0 ? float(dot / den) : 0.f;
        }
    }
    // Last, because it reorders the values.
    for (float& v : values) v = std::abs(v);
    g.medianAbs = medianInPlace(values);
    return g;
}

SinkInputs computeSinkInputs(const Trace& trace, int64_t minQueryPos, const SinkInputOptions& options) {
    SinkInputs in;
    in.T = trace.length();
    in.nLayers = trace.nLayers();
    in.nHeads = trace.nHeads();
    in.minQueryPos = minQueryPos;
    in.ids = trace.ids();
    const int64_t T = in.T;
    const int L = in.nLayers, H = in.nHeads;
    if (minQueryPos < 0 || minQueryPos >= T)
        fail(ErrorKind::BadInput, "min query position " + std::to_string(minQueryPos) + " must lie in 0.." +
                                      std::to_string(T - 1));
    for (int64_t p : options.references)
        if (p >= 0 && p < T && std::find(in.references.begin(), in.references.end(), p) == in.references.end())
            in.references.push_back(p);
    const int64_t R = int64_t(in.references.size());

    in.headAlpha.resize(size_t(int64_t(L) * H * T));
    in.sinkScore.assign(size_t(int64_t(L) * T), 0.f);
    in.scoreMedian.resize(size_t(L));
    bool hidden = true, mlp = true;
    StatsOptions so;
    so.minQueryPos = minQueryPos;
    so.job.stop = options.job.stop;
    std::vector<float> values, scratch;
    for (int l = 0; l < L; ++l) {
        if (options.job.stopRequested()) fail(ErrorKind::Cancelled, "sinks analysis cancelled");
        const std::vector<HeadStats> stats = trace.layerStats(l, so);
        if (int(stats.size()) != H) fail(ErrorKind::Internal, "layerStats returned the wrong head count");
        float* score = in.sinkScore.data() + int64_t(l) * T;
        for (int h = 0; h < H; ++h) {
            const std::vector<float>& a = stats[size_t(h)].colMeanCausal;
            std::copy(a.begin(), a.end(), in.headAlpha.begin() + std::ptrdiff_t((int64_t(l) * H + h) * T));
            for (int64_t t = 0; t < T; ++t) score[t] += a[size_t(t)];
        }
        for (int64_t t = 0; t < T; ++t) score[t] /= float(H);
        scratch.assign(score, score + T);
        in.scoreMedian[size_t(l)] = medianInPlace(scratch);

        int64_t D = 0;
        if (hidden && (hidden = tryCaptured(trace, Capture::ResidOut, l, values, D))) {
            if (l == 0) {
                in.hiddenNorm.resize(size_t(int64_t(L) * T));
                in.hiddenMaxAbs.resize(size_t(int64_t(L) * T));
                in.hiddenMedianAbs.resize(size_t(L));
                in.hiddenCos.resize(size_t(R * L * T));
            }
            const LayerGeometry g = layerGeometry(values, T, D, in.references);
            appendGeometry(g, l, L, T, in.hiddenNorm, &in.hiddenMaxAbs, &in.hiddenMedianAbs, in.hiddenCos);
        }
        if (mlp && (mlp = tryCaptured(trace, Capture::MlpOut, l, values, D))) {
            if (l == 0) {
                in.mlpNorm.resize(size_t(int64_t(L) * T));
                in.mlpCos.resize(size_t(R * L * T));
            }
            const LayerGeometry g = layerGeometry(values, T, D, in.references);
            appendGeometry(g, l, L, T, in.mlpNorm, nullptr, nullptr, in.mlpCos);
        }
        options.job.report(double(l + 1) / L);
    }
    // The trace policy is per trace, so a capture is present in every layer or in none;
    // clear partial arrays anyway so hasHidden()/hasMlp() never lie.
    if (!hidden) {
        in.hiddenNorm.clear();
        in.hiddenMaxAbs.clear();
        in.hiddenMedianAbs.clear();
        in.hiddenCos.clear();
    }
    if (!mlp) {
        in.mlpNorm.clear();
        in.mlpCos.clear();
    }
    if (!hidden && !mlp) in.references.clear();
    return in;
}

}  // namespace attnscope
