// Internals of the quantization lab shared by its translation units: the weight
// quantizer signature of the registry and small numeric helpers. No torch here.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "attnscope/analyses/quant.h"

namespace attnscope::quant_detail {

// A registered weight quantizer: fake-quantizes [rows, cols] in place; `group` is already
// resolved (never 0).
using WeightQuantizerFn = void (*)(float* w, int64_t rows, int64_t cols, int bits, int group,
                                   const WeightQuantParams& p);

void quantizeRtnSym(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams& p);
void quantizeRtnAsym(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams& p);
void quantizeMxint(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams& p);
void quantizeNormalFloat(float* w, int64_t rows, int64_t cols, int bits, int group, const WeightQuantParams& p);

// torch.round: half to even (the default FE_TONEAREST rounding mode).
inline float roundHalfEven(float x) { return std::nearbyint(x); }
// Triton's trunc(x + 0.5·sign(x)): half away from zero.
inline float roundHalfAway(float x) { return std::round(x); }

// Round-to-nearest-even conversion to bf16 and fp16 and back (what .to(bfloat16) and
// .to(float16) do to a float32).
float toBf16(float x);
float toFp16(float x);

}  // namespace attnscope::quant_detail
