// The O(n) passes over a matrix's values: subsampling, the magnitude sort of the exact
// protocol and the log10 histogram of the binned one. Large matrices are split into
// contiguous chunks, one thread each, so one 262M-value embedding does not serialise a
// whole-model fit.
#include <algorithm>
#include <bit>
#include <cmath>
#include <random>

#include "analyses/weibull/weibull_detail.h"

namespace attnscope::weibull_detail {

int chunkCount(size_t n, int threads) {
    if (threads <= 1 || n < kParallelMin) return 1;
    return int(std::min<size_t>(size_t(threads), n / (kParallelMin / 4)));
}

const float* sampleOf(const float* data, size_t& n, const WeibullParams& p, std::vector<float>& out) {
    if (p.subsample == 0 || p.subsample >= n) return data;
    // Selection sampling (Knuth's Algorithm S): uniform without replacement, in one
    // ordered pass, each subset equally likely. Multiply-high keeps it stdlib-independent.
    std::mt19937_64 rng(p.seed);
    out.reserve(size_t(p.subsample));
    uint64_t need = p.subsample;
    for (size_t i = 0; i < n && need; ++i) {
        const uint64_t remaining = uint64_t(n - i);
        if (uint64_t((unsigned __int128)rng() * remaining >> 64) < need) {
            out.push_back(data[i]);
            --need;
        }
    }
    n = out.size();
    return out.data();
}

namespace {

// |w| as bits: for non-negative floats the integer order is the value order. Zeros (the
// paper drops them), inf and NaN give 0.
inline uint32_t magnitudeKey(float v) {
    const uint32_t u = std::bit_cast<uint32_t>(v) & 0x7fffffffu;
    return u >= 0x7f800000u ? 0 : u;
}

}  // namespace

std::vector<uint32_t> sortedMagnitudes(const float* data, size_t count, uint64_t& dropped, int threads) {
    const int C = chunkCount(count, threads);
    // Compact the valid keys, chunks writing at offsets from a first counting pass.
    std::vector<size_t> valid(size_t(C) + 1, 0);
    forChunks(count, C, [&](int c, size_t b, size_t e) {
        size_t k = 0;
        for (size_t i = b; i < e; ++i) k += magnitudeKey(data[i]) != 0;
        valid[size_t(c) + 1] = k;
    });
    for (int c = 0; c < C; ++c) valid[size_t(c) + 1] += valid[size_t(c)];
    const size_t n = valid[size_t(C)];
    dropped = count - n;
    std::vector<uint32_t> keys(n);
    forChunks(count, C, [&](int c, size_t b, size_t e) {
        uint32_t* out = keys.data() + valid[size_t(c)];
        for (size_t i = b; i < e; ++i)
            if (const uint32_t k = magnitudeKey(data[i])) *out++ = k;
    });
    if (n < 4096) {
        std::sort(keys.begin(), keys.end());
        return keys;
    }
    // LSD radix sort, 11 + 11 + 9 bits. Per pass: each chunk counts its digits, chunk c
    // then writes digit b at (keys of smaller digits) + (digit-b keys of chunks before c),
    // which keeps the sort stable. A pass whose digit is the same for every key is skipped.
    constexpr int kShift[3] = {0, 11, 22};
    constexpr uint32_t kMask[3] = {0x7ff, 0x7ff, 0x1ff};
    constexpr size_t kRadix = 2048;
    const int K = chunkCount(n, threads);
    std::vector<uint32_t> tmp(n);
    std::vector<size_t> hist(size_t(K) * kRadix);
    for (int d = 0; d < 3; ++d) {
        std::fill(hist.begin(), hist.end(), 0);
        forChunks(n, K, [&](int c, size_t b, size_t e) {
            size_t* h = hist.data() + size_t(c) * kRadix;
            for (size_t i = b; i < e; ++i) ++h[(keys[i] >> kShift[d]) & kMask[d]];
        });
        bool single = false;
        for (size_t b = 0; b < kRadix && !single; ++b) {
            size_t total = 0;
            for (int c = 0; c < K; ++c) total += hist[size_t(c) * kRadix + b];
            single = total == n;
        }
        if (single) continue;
        size_t sum = 0;
        for (size_t b = 0; b < kRadix; ++b)
            for (int c = 0; c < K; ++c) sum += std::exchange(hist[size_t(c) * kRadix + b], sum);
        forChunks(n, K, [&](int c, size_t b, size_t e) {
            size_t* h = hist.data() + size_t(c) * kRadix;
            for (size_t i = b; i < e; ++i) tmp[h[(keys[i] >> kShift[d]) & kMask[d]]++] = keys[i];
        });
        keys.swap(tmp);
    }
    return keys;
}

namespace {

// The library's bin of one value: numpy's float32 log10(max(|w|, 1e-13)), then
// np.histogram's binning; −1 for values it drops (zeros land at −13, below the range,
// like NaN and ±inf).
int binOf(float w) {
    const float v = std::log10(std::max(std::abs(w), 1e-13f));
    if (!(v >= kLog10Lo && v <= kLog10Hi)) return -1;
    const double dv = v;
    int b = std::min(int((dv - kLog10Lo) * (kBins / (kLog10Hi - kLog10Lo))), kBins - 1);
    if (dv < edge(b)) --b;
    else if (b != kBins - 1 && dv >= edge(b + 1)) ++b;
    return b;
}

// binOf by table: the top 19 bits of |w| (exponent and 11 mantissa bits) span 2e-4 in
// log10, far less than a bin (0.0137), so almost every such range lies in one bin and
// its bin is looked up; the 1-2% of ranges that straddle an edge are computed per value.
// Built from binOf at the range ends, so it gives exactly binOf's answers.
constexpr int kTableShift = 12;
constexpr int16_t kStraddle = -2;
const std::vector<int16_t>& binTable() {
    static const std::vector<int16_t> table = [] {
        std::vector<int16_t> t(size_t(1) << (31 - kTableShift));
        for (size_t i = 0; i < t.size(); ++i) {
            const uint32_t lo = uint32_t(i) << kTableShift, hi = lo | ((1u << kTableShift) - 1);
            const int a = binOf(std::bit_cast<float>(lo)), b = binOf(std::bit_cast<float>(hi));
            t[i] = a == b ? int16_t(a) : kStraddle;
        }
        return t;
    }();
    return table;
}

}  // namespace

void histogramLog10(const float* data, size_t count, std::vector<double>& counts, uint64_t& dropped, int threads) {
    const int C = chunkCount(count, threads);
    const int16_t* table = binTable().data();
    std::vector<uint64_t> c(size_t(C) * (kBins + 1), 0);  // per chunk: bins, then dropped
    forChunks(count, C, [&](int chunk, size_t b0, size_t e0) {
        uint64_t* h = c.data() + size_t(chunk) * (kBins + 1);
        for (size_t i = b0; i < e0; ++i) {
            const uint32_t u = std::bit_cast<uint32_t>(data[i]) & 0x7fffffffu;
            int b = table[u >> kTableShift];
            if (b == kStraddle) b = binOf(data[i]);
            ++h[b < 0 ? kBins : b];
        }
    });
    counts.assign(kBins, 0.0);
    dropped = 0;
    for (int chunk = 0; chunk < C; ++chunk) {
        const uint64_t* h = c.data() + size_t(chunk) * (kBins + 1);
        for (int b = 0; b < kBins; ++b) counts[size_t(b)] += double(h[b]);
        dropped += h[kBins];
    }
}

}  // namespace attnscope::weibull_detail
