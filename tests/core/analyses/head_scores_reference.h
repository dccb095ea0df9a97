// Attention materialized in double precision from a trace's own q and k (softmax(q kᵀ/√d),
// causal, optional sliding window) and the per-head and per-row quantities head_scores.h and
// entropy.h define, for tst_head_scores and tst_entropy_profile; plus their small random models.
#pragma once
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "attnscope/model.h"
#include "attnscope/trace.h"
#include "test_models.h"

namespace headref {

using namespace attnscope;

struct ReferenceScores {
    std::vector<double> entropy, firstToken, previous, diagonal;  // [H]
    std::vector<double> rowEntropy;                               // [T] mean over heads
};

inline ReferenceScores reference(const Trace& t, int layer, int64_t window) {
    const Matrix2D q = t.captured(Capture::Q, layer), k = t.captured(Capture::K, layer);
    const int64_t T = t.length();
    const int H = t.nHeads(), d = t.headDim(), G = H / t.nKvHeads();
    ReferenceScores r;
    r.rowEntropy.assign(size_t(T), 0.0);
    for (int h = 0; h < H; ++h) {
        double ent = 0, first = 0, prev = 0, diag = 0;
        for (int64_t i = 0; i < T; ++i) {
            const int64_t lo = window > 0 ? std::max<int64_t>(0, i - window + 1) : 0;
            std::vector<double> s(size_t(i + 1), -INFINITY);
            double mx = -1e300;
            for (int64_t j = lo; j <= i; ++j) {
                double dot = 0;
                for (int c = 0; c < d; ++c) dot += double(q.at(i, int64_t(h) * d + c)) * double(k.at(j, int64_t(h / G) * d + c));
                s[size_t(j)] = dot / std::sqrt(double(d));
                mx = std::max(mx, s[size_t(j)]);
            }
            double z = 0;
            for (int64_t j = lo; j <= i; ++j) z += std::exp(s[size_t(j)] - mx);
            auto p = [&](int64_t j) { return j < lo || j > i ? 0.0 : std::exp(s[size_t(j)] - mx) / z; };
            double e = 0;
            for (int64_t j = lo; j <= i; ++j) e -= p(j) > 0 ? p(j) * std::log(p(j)) : 0;
            ent += e;
            r.rowEntropy[size_t(i)] += e / H;
            first += p(0);
            diag += p(i);
            if (i > 0) prev += p(i - 1);
        }
        const int64_t seeing0 = window > 0 ? std::min<int64_t>(T, window) : T;  // rows that see key 0
        r.entropy.push_back(ent / double(T));
        r.firstToken.push_back(first / double(seeing0));
        r.diagonal.push_back(diag / double(T));
        r.previous.push_back(prev / double(T - 1));
    }
    return r;
}

inline std::unique_ptr<Model> randomModel(uint64_t seed) {
    RandomModelSpec spec;
    spec.nLayers = 2;
    spec.nHeads = 4;
    spec.nKvHeads = 2;  // GQA
    spec.headDim = 16;
    spec.dModel = 64;
    spec.seed = seed;
    return Model::random(spec);
}

inline std::vector<int32_t> ids(int n) {
    std::vector<int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(int32_t((i * 37 + 11) % 250));
    return v;
}

// randomModel(seed) and its trace of ids(n).
inline testmodels::ModelRun randomRun(uint64_t seed, int n, const RunOptions& options = {}) {
    testmodels::ModelRun r{randomModel(seed), nullptr};
    r.trace = r.model->run(ids(n), options);
    return r;
}

}  // namespace headref
