// rtn-sym and rtn-asym: round-to-nearest with the GPTQ/RSQ WeightQuantizer's parameters
// (reference §2.3, [SRC] rsq fake_quant/quant_utils.py), per output row or per group of g
// consecutive input channels of a row. Float32 throughout, as the PyTorch code runs it.
#include <algorithm>
#include <cmath>
#include <limits>

#include "analyses/quant/quant_detail.h"

namespace attnscope::quant_detail {

namespace {

struct Params {
    float scale = 1, zero = 0;
};

float quantDequant(float x, const Params& q, bool sym, float maxq) {
    if (sym) return q.scale * std::clamp(roundHalfEven(x / q.scale), -(maxq + 1), maxq);
    const float c = std::clamp(roundHalfEven(x / q.scale) + q.zero, 0.f, maxq);
    return q.scale * (c - q.zero);
}

// find_params of one group (its values x[0..n)), then the optional MSE grid search.
Params findParams(const float* x, int64_t n, bool sym, float maxq, bool mse) {
    float xmin = 0, xmax = 0;  // min(min x, 0) and max(max x, 0)
    for (int64_t i = 0; i < n; ++i) {
        xmin = std::min(xmin, x[i]);
        xmax = std::max(xmax, x[i]);
    }
    Params p;
    if (sym) {
        xmax = std::max(std::max(std::fabs(xmin), xmax), 1e-5f);
        p.scale = xmax / maxq;
    } else {
        if (xmin == 0 && xmax == 0) {
            xmin = -1;
            xmax = 1;
        }
        p.scale = std::max(xmax - xmin, 1e-5f) / maxq;
        p.zero = roundHalfEven(-xmin / p.scale);
    }
    if (!mse) return p;
    // grid 100, maxshrink 0.8, norm 2.4; candidates replace the current on a strict improvement
    float best = std::numeric_limits<float>::infinity();
    for (int i = 0; i < 80; ++i) {
        const float shrink = float(1.0 - double(i) / 100.0);
        const float xmin1 = shrink * xmin, xmax1 = shrink * xmax;
        Params c;
        if (sym) {
            c.scale = xmax1 / maxq;
        } else {
            c.scale = (xmax1 - xmin1) / maxq;
            c.zero = roundHalfEven(-xmin1 / c.scale);
        }
        float err = 0;
        for (int64_t j = 0; j < n; ++j) err += std::pow(std::fabs(quantDequant(x[j], c, sym, maxq) - x[j]), 2.4f);
        if (err < best) {
            best = err;
            p = c;
        }
    }
    return p;
}

void quantizeRtn(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams& params, bool sym) {
    const float maxq = sym ? float((1 << (bits - 1)) - 1) : float((1 << bits) - 1);
    const int64_t g = group < 0 ? cols : group;
    for (int64_t r = 0; r < rows; ++r) {
        float* row = w + r * cols;
        for (int64_t c0 = 0; c0 < cols; c0 += g) {
            const int64_t n = std::min(g, cols - c0);
            const Params p = findParams(row + c0, n, sym, maxq, params.mseClip);
            for (int64_t j = 0; j < n; ++j) row[c0 + j] = quantDequant(row[c0 + j], p, sym, maxq);
        }
    }
}

}  // namespace

void quantizeRtnSym(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams& p) {
    quantizeRtn(w, rows, cols, bits, group, p, true);
}

void quantizeRtnAsym(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams& p) {
    quantizeRtn(w, rows, cols, bits, group, p, false);
}

}  // namespace attnscope::quant_detail
