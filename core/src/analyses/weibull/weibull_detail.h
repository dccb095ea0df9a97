// Internals shared by the Weibull fit and plot code: sampling, the O(n) magnitude sort
// and the library's log10 histogram.
#pragma once
#include <cstddef>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "attnscope/analyses/weibull.h"

namespace attnscope::weibull_detail {

// The library's histogram: 1024 uniform bins of log10|w| on [−12, 2].
inline constexpr int kBins = 1024;
inline constexpr double kLog10Lo = -12.0, kLog10Hi = 2.0;
// np.linspace(−12, 2, 1025)[b]; exact in double because 14/1024 is a dyadic fraction.
inline double edge(int b) { return kLog10Lo + double(b) * ((kLog10Hi - kLog10Lo) / kBins); }

// Below this many values everything runs on the calling thread.
inline constexpr size_t kParallelMin = size_t(1) << 20;
// How many chunks (threads) a pass over n values uses, given a thread budget.
int chunkCount(size_t n, int threads);
// Runs f(chunk, begin, end) for `chunks` contiguous ranges of [0, n), one thread each
// (inline for a single chunk).
template <class F>
void forChunks(size_t n, int chunks, F&& f) {
    if (chunks <= 1) {
        f(0, size_t(0), n);
        return;
    }
    std::vector<std::jthread> pool;
    pool.reserve(size_t(chunks));
    for (int c = 0; c < chunks; ++c)
        pool.emplace_back([&f, c, n, chunks] { f(c, n * size_t(c) / size_t(chunks), n * size_t(c + 1) / size_t(chunks)); });
}

// The values to fit: all of them, or a uniform subsample of params.subsample (then
// `storage` holds them and the returned pointer points into it).
const float* sampleOf(const float* data, size_t& n, const WeibullParams& params, std::vector<float>& storage);

// Nonzero finite magnitudes as IEEE bit patterns, ascending; `dropped` counts the rest.
std::vector<uint32_t> sortedMagnitudes(const float* data, size_t n, uint64_t& dropped, int threads);

// Counts of log10(max(|w|, 1e-13)) per bin; `dropped` counts values outside [−12, 2]
// (zeros included) and NaN.
void histogramLog10(const float* data, size_t n, std::vector<double>& counts, uint64_t& dropped, int threads);

// The hist protocol's fit of a ready histogram (counts as histogramLog10's) and the result
// fields every protocol fills (class, drift, SD of k).
WeibullResult fitHistogram(const std::vector<double>& counts, uint64_t dropped, const WeibullParams& params);

}  // namespace attnscope::weibull_detail

namespace at {
class Tensor;
}

namespace attnscope::weibull_detail {

// histogramLog10 of each tensor (any device, float dtypes; all on one device), computed
// there; one host transfer for all. Pairs of (counts, dropped). weibull_device.cpp.
std::vector<std::pair<std::vector<double>, uint64_t>> histogramsLog10(const std::vector<at::Tensor>& tensors);

}  // namespace attnscope::weibull_detail
