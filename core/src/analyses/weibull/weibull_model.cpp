// Fitting every weight matrix of a model, and the data of the probability-plot panel.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include <ATen/ATen.h>

#include "analyses/weibull/weibull_detail.h"
#include "attnscope/analyses/weibull.h"
#include "model/model_weights.h"

namespace attnscope {

namespace wd = weibull_detail;

namespace {
constexpr uint64_t kBigMatrix = uint64_t(1) << 22;  // values; fitted with all threads inside
}  // namespace

std::vector<WeibullMatrixFit> fitModelWeights(const Model& model, const WeibullParams& params) {
    const std::vector<Model::WeightTensorInfo> infos = model.weightTensors();
    std::vector<WeibullMatrixFit> out(infos.size());
    const int threads = params.threads > 0 ? params.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    auto fitOne = [&](size_t i, int innerThreads) {
        const Model::WeightTensorInfo& w = infos[i];
        const Matrix2D m = model.weightMatrix(w.name);
        WeibullParams p = params;
        p.threads = innerThreads;
        out[i] = {w.name, w.layer, w.component, w.shape, fitWeibull(m.data.data(), m.data.size(), p)};
    };
    // Large matrices (embeddings, big projections) one at a time with every thread inside
    // the fit; the rest spread over the threads, one matrix each. Each worker holds one
    // float copy at a time.
    std::vector<bool> done(infos.size(), false);
    if (params.protocol == WeibullProtocol::Hist && params.subsample == 0 && model.info().device == Device::CUDA) {
        // The histograms where the weights live; only 1024 counts per matrix come back.
        const std::vector<at::Tensor> live = liveWeightTensors(model, infos);
        std::vector<at::Tensor> tensors;
        std::vector<size_t> which;
        for (size_t i = 0; i < infos.size(); ++i)
            if (live[i].defined()) { tensors.push_back(live[i]); which.push_back(i); }
        const auto hists = wd::histogramsLog10(tensors);
        for (size_t j = 0; j < which.size(); ++j) {
            const Model::WeightTensorInfo& w = infos[which[j]];
            out[which[j]] = {w.name, w.layer, w.component, w.shape, wd::fitHistogram(hists[j].first, hists[j].second, params)};
            done[which[j]] = true;
        }
    }
    std::vector<size_t> small;
    for (size_t i = 0; i < infos.size(); ++i) {
        if (done[i]) continue;
        int64_t n = 1;
        for (int64_t d : infos[i].shape) n *= d;
        if (threads > 1 && uint64_t(n) >= kBigMatrix) fitOne(i, threads);
        else small.push_back(i);
    }
    std::atomic<size_t> next{0};
    std::exception_ptr error;
    std::mutex errorMutex;
    auto work = [&] {
        for (size_t j; (j = next.fetch_add(1)) < small.size();) {
            try {
                fitOne(small[j], 1);
            } catch (...) {
                const std::lock_guard lock(errorMutex);
                if (!error) error = std::current_exception();
                next = small.size();
            }
        }
    };
    const size_t nThreads = std::min(small.size(), size_t(threads));
    if (nThreads <= 1) {
        work();
    } else {
        std::vector<std::jthread> pool;
        for (size_t t = 0; t < nThreads; ++t) pool.emplace_back(work);
    }
    if (error) std::rethrow_exception(error);
    return out;
}

WeibullPlot weibullPlot(const float* data, size_t n, const WeibullParams& params, size_t maxPoints) {
    WeibullPlot plot;
    std::vector<float> storage;
    const float* sample = wd::sampleOf(data, n, params, storage);
    uint64_t dropped = 0;
    const int threads = params.threads > 0 ? params.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    wd::histogramLog10(sample, n, plot.log10Counts, dropped, threads);
    if (maxPoints == 0) return plot;
    const std::vector<uint32_t> a = wd::sortedMagnitudes(sample, n, dropped, threads);
    const size_t m = a.size();
    if (m == 0) return plot;
    const size_t points = std::min(m, std::max<size_t>(maxPoints, 2));
    plot.lnAbs.reserve(points);
    plot.y.reserve(points);
    for (size_t j = 0; j < points; ++j) {
        // Evenly spaced ranks, first and last included, so the tails stay visible.
        const size_t i = points == 1 ? 0 : size_t(std::llround(double(j) * double(m - 1) / double(points - 1)));
        plot.lnAbs.push_back(std::log(double(std::bit_cast<float>(a[i]))));
        plot.y.push_back(std::log(-std::log1p(-(double(i) + 0.5) / double(m))));
    }
    return plot;
}

}  // namespace attnscope
