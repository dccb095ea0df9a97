// mxint: QERA's emulated MXINT (reference §2.3, [SRC] quantizers/mxint.py). Blocks of
// `group` consecutive input channels of a row share the largest biased exponent of the
// block; elements are sign-magnitude with w−1 bits and the radix point after the first.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "analyses/quant/quant_detail.h"

namespace attnscope::quant_detail {

namespace {

int biasedExponent(float a) {
    uint32_t u;
    std::memcpy(&u, &a, 4);
    return int((u >> 23) & 0xFF);
}

}  // namespace

void quantizeMxint(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams& p) {
    const float smallestNormal = 1.17549435e-38f;  // bf16 and fp32 share it (2^−126)
    const float levels = float(1 << (bits - 2));    // 2^(w−2)
    const float maxM = float((1 << (bits - 1)) - 1);
    for (int64_t r = 0; r < rows; ++r) {
        float* row = w + r * cols;
        // zero padding of the last block changes nothing: zeros never raise the max exponent
        for (int64_t c0 = 0; c0 < cols; c0 += group) {
            const int64_t n = std::min<int64_t>(group, cols - c0);
            int emax = 0;
            for (int64_t j = 0; j < n; ++j) {
                float x = p.bf16Input ? toBf16(row[c0 + j]) : row[c0 + j];
                float a = std::fabs(x);
                if (!(a >= smallestNormal)) a = 0;  // subnormals flushed
                row[c0 + j] = std::copysign(a, x);
                emax = std::max(emax, biasedExponent(a));
            }
            if (emax == 0) emax = 1;  // an all-zero block: any scale keeps its zeros
            const float scale = std::ldexp(1.f, emax - 127);  // (e << 23).view(float)
            for (int64_t j = 0; j < n; ++j) {
                const float x = row[c0 + j];
                const float m = std::min(std::max(roundHalfEven(std::fabs(x) / scale * levels), 0.f), maxM);
                row[c0 + j] = (x < 0 ? -1.f : 1.f) * m * scale / levels;
            }
        }
    }
}

}  // namespace attnscope::quant_detail
