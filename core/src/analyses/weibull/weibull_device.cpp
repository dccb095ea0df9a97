// The hist protocol's log10 histogram where the weights live (GPU above all): one
// bucketize + bincount pass per matrix into a device counts table, copied to the host
// once for all matrices, so no weight crosses the bus.
#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "analyses/weibull/weibull_detail.h"

namespace attnscope::weibull_detail {
namespace {

// Bounds B[0..1024] in float32 such that, for a float v, bin b holds B[b] <= v < B[b+1]:
// B[b] is the least float >= edge(b), so the comparison is the CPU path's double one;
// B[1024] is the float after 2.0, so v = 2 lands in the last bin as in np.histogram.
at::Tensor binBounds(at::Device device) {
    std::vector<float> b(kBins + 1);
    for (int i = 0; i < kBins; ++i) {
        float f = float(edge(i));
        if (double(f) < edge(i)) f = std::nextafter(f, std::numeric_limits<float>::infinity());
        b[size_t(i)] = f;
    }
    b[kBins] = std::nextafter(float(kLog10Hi), std::numeric_limits<float>::infinity());
    return at::tensor(b).to(device);
}

constexpr int64_t kChunk = int64_t(1) << 24;  // values per pass: bounds the temporaries

}  // namespace

std::vector<std::pair<std::vector<double>, uint64_t>> histogramsLog10(const std::vector<at::Tensor>& tensors) {
    std::vector<std::pair<std::vector<double>, uint64_t>> out(tensors.size());
    if (tensors.empty()) return out;
    at::NoGradGuard noGrad;
    const at::Device device = tensors.front().device();
    const at::Tensor bounds = binBounds(device);
    // Row i: bucketize indices 0..kBins+1; 1..kBins are the bins, 0 and kBins+1 dropped.
    at::Tensor counts = at::zeros({int64_t(tensors.size()), kBins + 2}, at::TensorOptions().dtype(at::kLong).device(device));
    for (size_t i = 0; i < tensors.size(); ++i) {
        const at::Tensor flat = tensors[i].reshape({-1});
        for (int64_t c0 = 0; c0 < flat.numel(); c0 += kChunk) {
            const at::Tensor v = at::log10(at::clamp_min(flat.slice(0, c0, c0 + kChunk).abs().to(at::kFloat), 1e-13f));
            counts[int64_t(i)].add_(at::bincount(at::bucketize(v, bounds, false, /*right=*/true), {}, kBins + 2));
        }
    }
    const at::Tensor host = counts.to(at::kCPU);  // the only transfer
    const int64_t* h = host.data_ptr<int64_t>();
    for (size_t i = 0; i < tensors.size(); ++i) {
        const int64_t* row = h + int64_t(i) * (kBins + 2);
        out[i].first.assign(row + 1, row + 1 + kBins);
        out[i].second = uint64_t(row[0] + row[kBins + 1]);
    }
    return out;
}

}  // namespace attnscope::weibull_detail
