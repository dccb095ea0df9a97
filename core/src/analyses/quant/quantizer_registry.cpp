// The weight quantizer registry: one table row per quantizer (each lives in its own
// quantizer_*.cpp), looked up by name. An explicit list, not self-registering statics,
// which a static library's linker would drop.
#include <algorithm>
#include <cstring>
#include <string>

#include "analyses/quant/quant_detail.h"
#include "attnscope/error.h"

namespace attnscope {

namespace qd = quant_detail;

namespace {

struct Entry {
    WeightQuantizerInfo info;
    qd::WeightQuantizerFn fn;
};

const std::vector<Entry>& entries() {
    static const std::vector<Entry> table = {
        {{"rtn-sym", "GPTQ/RSQ WeightQuantizer, symmetric: s = max|x|/(2^(b-1)-1), per row or group", -1, 2, 8},
         qd::quantizeRtnSym},
        {{"rtn-asym", "GPTQ/RSQ WeightQuantizer, asymmetric min-max with a rounded zero point", -1, 2, 8},
         qd::quantizeRtnAsym},
        {{"mxint", "QERA MXINT: shared power-of-two exponent per block of 32 input channels", 32, 2, 8},
         qd::quantizeMxint},
        {{"nf4", "LoftQ NFQuantizer: absmax per 64-value block, normal-quantile code book (NF4 at 4 bits)", 64, 2, 8},
         qd::quantizeNormalFloat},
    };
    return table;
}

const Entry& find(const std::string& name) {
    for (const Entry& e : entries())
        if (name == e.info.name) return e;
    std::string names;
    for (const Entry& e : entries()) names += (names.empty() ? "" : ", ") + std::string(e.info.name);
    fail(ErrorKind::BadInput, "unknown weight quantizer '" + name + "' (known: " + names + ")");
}

}  // namespace

const std::vector<WeightQuantizerInfo>& weightQuantizers() {
    static const std::vector<WeightQuantizerInfo> infos = [] {
        std::vector<WeightQuantizerInfo> v;
        for (const Entry& e : entries()) v.push_back(e.info);
        return v;
    }();
    return infos;
}

const WeightQuantizerInfo& findWeightQuantizer(const std::string& name) { return find(name).info; }

std::vector<float> fakeQuantize(const float* w, int64_t rows, int64_t cols, const WeightQuantParams& p) {
    const Entry& e = find(p.scheme);
    if (p.bits < e.info.minBits || p.bits > e.info.maxBits)
        fail(ErrorKind::BadInput, p.scheme + ": bits must be in [" + std::to_string(e.info.minBits) + ", " +
                                      std::to_string(e.info.maxBits) + "], got " + std::to_string(p.bits));
    if (rows < 0 || cols < 0) fail(ErrorKind::BadInput, "fakeQuantize: negative shape");
    const int group = p.group == 0 ? e.info.defaultGroup : p.group;
    if (group < -1 || group == 0) fail(ErrorKind::BadInput, "group must be -1 (per row) or positive");
    if (group == -1 && std::strcmp(e.info.name, "mxint") == 0)
        fail(ErrorKind::BadInput, "mxint needs a block size (group > 0)");
    std::vector<float> out(w, w + rows * cols);
    if (!out.empty()) e.fn(out.data(), rows, cols, p.bits, group, p);
    return out;
}

namespace quant_detail {

float toBf16(float x) {
    if (std::isnan(x)) return x;
    uint32_t u;
    std::memcpy(&u, &x, 4);
    u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest even on the dropped 16 bits
    u &= 0xFFFF0000u;
    float y;
    std::memcpy(&y, &u, 4);
    return y;
}

float toFp16(float x) {
    // IEEE half: 10 mantissa bits, exponents −14..15, subnormals down to 2^−24.
    if (!std::isfinite(x)) return x;
    const float a = std::fabs(x);
    if (a >= 65520.f) return std::copysign(INFINITY, x);
    int e;
    std::frexp(a, &e);  // a = m·2^e, m in [0.5, 1)
    const int exp = std::max(e - 1, -14);
    const float step = std::ldexp(1.f, exp - 10);
    return std::copysign(std::nearbyint(a / step) * step, x);
}

}  // namespace quant_detail

}  // namespace attnscope
