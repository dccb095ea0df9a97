// binary: BinaryAttention's one-bit scores σ_Q σ_K sign(q)·sign(k), reference D.1.
#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

at::Tensor signOf(const at::Tensor& x) { return at::where(x >= 0, 1.0, -1.0).to(at::kDouble); }  // sign(0) = +1

VariantTensors binary(const HeadTensors& in, const Params& p) {
    auto [q, k] = qkFor(in, p);
    if (p.integer("smooth_k")) k = k - k.mean(0, true);  // [RECON] SageAttention's K smoothing before the sign
    const at::Tensor sq = signOf(q), sk = signOf(k);
    at::Tensor rowScale;                       // σ_Q σ_K per query row
    if (p.choice("scale_mode") == "prefix") {  // σ over rows ≤ i: no scalar from the future
        const at::Tensor n = at::arange(1, in.T + 1, at::kDouble);
        rowScale = in.rowsOf((q.abs().mean(1).cumsum(0) / n) * (k.abs().mean(1).cumsum(0) / n));
    } else {
        rowScale = at::full({in.rows()}, (q.abs().mean() * k.abs().mean()).item<double>(), at::kDouble);
    }
    const at::Tensor s = in.rowsOf(sq).mm(sk.t()) * (rowScale * in.scale).unsqueeze(1);
    at::Tensor w = maskedSoftmax(s, in);
    at::Tensor v = in.v;
    if (p.integer("pv_quant")) {
        w = (w * 255).round().clamp(0, 255) / 255;
        const at::Tensor scale = 127 / (std::get<0>(v.abs().max(0, true)) + 1e-6);
        v = (v * scale).round() / (scale + 1e-6);
    }
    VariantTensors r;
    r.w = w;
    r.o = w.mm(v);
    return withCurve(std::move(r), rowScale, "σ_Q·σ_K");
}

}  // namespace

const VariantEntry& binaryVariant() {
    static const VariantEntry e{
        {"binary",
         "BinaryAttention (1-bit QK)",
         VariantFamily::Quantised,
         "Scores from the signs of q and k only, times one scale per head: q̂·k̂ = σ_Qσ_K(d − 2·Hamming), so a row "
         "has at most d+1 distinct logits. The extreme end of QK quantisation (SageAttention's INT8/INT4 sit "
         "between it and softmax).",
         "reference D.1; BinaryAttention (EdwardChasel/BinaryAttention models.py)",
         true,
         {{"scale_mode", 0, 0, 1, {"global", "prefix"}, "σ over the whole sequence (the code), or rows ≤ i [RECON]"},
          {"pv_quant", 0, 0, 1, {}, "1: also P to 8 bits unsigned and V to 8 bits per channel"},
          {"smooth_k", 0, 0, 1, {}, "1: subtract K's mean over tokens before the sign [RECON]"},
          ropeParam(0)}},
        binary};
    return e;
}

}  // namespace attnscope::variants
