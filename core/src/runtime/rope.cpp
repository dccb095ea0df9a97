#include "runtime/rope.h"

#include <cmath>

namespace attnscope::core {

at::Tensor ropeInverseFrequencies(const RopeConfig& rope) {
    const int64_t half = rope.rotaryDim / 2;
    // Same arithmetic as HF: base ** (arange(0, dim, 2) / dim) in float32.
    at::Tensor exponent = at::arange(0, rope.rotaryDim, 2, at::kLong).to(at::kFloat) / float(rope.rotaryDim);
    at::Tensor inv = 1.0 / at::pow(at::scalar_tensor(rope.theta, at::kFloat), exponent);
    if (rope.scaling == RopeScaling::Linear) {
        inv = inv / rope.factor;
    } else if (rope.scaling == RopeScaling::Llama3) {
        // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, and a band
        // in between is interpolated.
        const double lowWavelen = rope.originalContext / rope.lowFreqFactor;
        const double highWavelen = rope.originalContext / rope.highFreqFactor;
        at::Tensor wavelen = 2 * M_PI / inv;
        at::Tensor scaled = at::where(wavelen > lowWavelen, inv / rope.factor, inv);
        at::Tensor smooth = (rope.originalContext / wavelen - rope.lowFreqFactor) /
                            (rope.highFreqFactor - rope.lowFreqFactor);
        at::Tensor smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled;
        at::Tensor medium = (wavelen >= highWavelen).logical_and(wavelen <= lowWavelen);
        inv = at::where(medium, smoothed, scaled);
    }
    (void)half;
    return inv.to(at::kFloat);
}

RopeTables buildRopeTables(const RopeConfig& rope, int64_t positions, at::Device device) {
    if (rope.style == RopeStyle::None) return {};
    at::Tensor inv = ropeInverseFrequencies(rope);
    at::Tensor pos = at::arange(positions, at::kLong).to(at::kFloat);
    at::Tensor freqs = at::outer(pos, inv);  // [positions, half]
    return {freqs.cos().to(device), freqs.sin().to(device)};
}

at::Tensor applyRope(const at::Tensor& x, const RopeTables& t, int64_t pos0, const RopeConfig& rope) {
    if (rope.style == RopeStyle::None) return x;
    // x: [..., T, heads, d]; the tables broadcast over any leading (batch) dims.
    const int64_t T = x.size(-3), r = rope.rotaryDim, half = r / 2, d = x.size(-1);
    at::Tensor cos = t.cos.slice(0, pos0, pos0 + T).unsqueeze(1).to(x.scalar_type());  // [T,1,half]
    at::Tensor sin = t.sin.slice(0, pos0, pos0 + T).unsqueeze(1).to(x.scalar_type());
    at::Tensor rot = x.slice(-1, 0, r);
    at::Tensor out;
    if (rope.style == RopeStyle::HalfSplit) {
        at::Tensor x1 = rot.slice(-1, 0, half), x2 = rot.slice(-1, half, r);
        out = at::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
    } else {  // llama2.c: rotate elements (2i, 2i+1) together
        std::vector<int64_t> pairShape(x.sizes().begin(), x.sizes().end());
        pairShape.back() = half;
        pairShape.push_back(2);
        at::Tensor pairs = rot.reshape(pairShape);
        at::Tensor x0 = pairs.select(-1, 0), x1 = pairs.select(-1, 1);
        std::vector<int64_t> flat(x.sizes().begin(), x.sizes().end());
        flat.back() = r;
        out = at::stack({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1).reshape(flat);
    }
    if (r < d) out = at::cat({out, x.slice(-1, r, d)}, -1);
    return out.contiguous();
}

}  // namespace attnscope::core
