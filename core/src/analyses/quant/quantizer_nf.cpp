// nf4: LoftQ's NFQuantizer (the QERA QPEFT configs' NF4; reference §2.3, [SRC]
// peft utils/loftq_utils.py): the matrix is flattened row-major into blocks of `group`
// values (64), each scaled by its absmax and snapped to the nearest entry of a code book of
// normal quantiles. Other bit widths use the same construction with 2^bits entries.
#include <algorithm>
#include <cmath>

#include "analyses/quant/quant_detail.h"

namespace attnscope {

namespace {

// Φ⁻¹(p): Acklam's rational approximation polished by one Halley step (double accuracy).
double normalPpf(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p <= 0) return -INFINITY;
    if (p >= 1) return INFINITY;
    double x;
    if (p < 0.02425) {
        const double q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        const double q = std::sqrt(-2 * std::log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
    const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

// torch.linspace(start, end, steps) in float32 (the CPU kernel's two-sided formula).
std::vector<float> linspaceF(float start, float end, int steps) {
    std::vector<float> v(size_t(std::max(steps, 0)));
    if (steps == 1) v[0] = start;
    if (steps <= 1) return v;
    const float step = (end - start) / float(steps - 1);
    const int halfway = steps / 2;
    for (int i = 0; i < steps; ++i) v[size_t(i)] = i < halfway ? start + step * float(i) : end - step * float(steps - i - 1);
    return v;
}

}  // namespace

std::vector<float> normalFloatTable(int bits) {
    const float offset = 0.9677083f;
    const int half = 1 << (bits - 1);
    std::vector<double> v;
    const std::vector<float> pos = linspaceF(offset, 0.5f, half + 1), neg = linspaceF(offset, 0.5f, half);
    for (int i = 0; i < half; ++i) v.push_back(normalPpf(double(pos[size_t(i)])));  // [:-1]
    v.push_back(0.0);
    for (int i = 0; i + 1 < half; ++i) v.push_back(-normalPpf(double(neg[size_t(i)])));
    std::vector<float> t(v.begin(), v.end());  // torch.Tensor(v): float32
    std::sort(t.begin(), t.end());
    const float mx = t.back();
    for (float& x : t) x /= mx;
    return t;
}

namespace quant_detail {

void quantizeNormalFloat(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams&) {
    const std::vector<float> table = normalFloatTable(bits);
    const int64_t n = rows * cols, g = group < 0 ? cols : group;
    for (int64_t b0 = 0; b0 < n; b0 += g) {
        const int64_t len = std::min(g, n - b0);
        float absmax = 0;
        for (int64_t j = 0; j < len; ++j) absmax = std::max(absmax, std::fabs(w[b0 + j]));
        for (int64_t j = 0; j < len; ++j) {
            if (absmax == 0) {  // torch would divide 0/0; an all-zero block stays zero
                w[b0 + j] = 0;
                continue;
            }
            const float x = w[b0 + j] / absmax;
            size_t best = 0;  // argmin returns the first of equal distances
            float bestDist = std::fabs(x - table[0]);
            for (size_t k = 1; k < table.size(); ++k) {
                const float dist = std::fabs(x - table[k]);
                if (dist < bestDist) {
                    bestDist = dist;
                    best = k;
                }
            }
            w[b0 + j] = table[best] * absmax;
        }
    }
}

}  // namespace quant_detail

}  // namespace attnscope
