// ZipCache (reference §2.7): saliency from probe queries (last 5% of the prompt plus 5%
// drawn from the rest), normalized by the full-prefill count T − j, summed over the group.
// Not eviction: the salient tokens keep 4 bits, the others get 2 (keys channel-wise per
// saliency group, values token-wise after a per-channel sqrt-max scale).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "analyses/kv/kv_tensors.h"
#include "attnscope/error.h"

namespace attnscope::kv {

void prepareZipCache(KvInputs& in, const PrepareContext& ctx) {
    const int64_t Tp = in.promptLength, L = in.nLayers, H = in.nHeads, Hkv = in.nKvHeads, G = H / Hkv;
    const int64_t n = int64_t(in.options.zipProbeRatio * double(Tp));
    const int64_t nLast = std::max<int64_t>(1, n), nRand = std::min<int64_t>(n, Tp - nLast);
    std::vector<int64_t> rest(size_t(Tp - nLast));
    std::iota(rest.begin(), rest.end(), 0);
    std::mt19937_64 rng(in.options.zipSeed);
    for (int64_t k = 0; k < nRand; ++k) {  // partial Fisher-Yates: nRand distinct rows
        std::uniform_int_distribution<int64_t> pick(k, int64_t(rest.size()) - 1);
        std::swap(rest[size_t(k)], rest[size_t(pick(rng))]);
    }
    std::vector<int64_t> probes(rest.begin(), rest.begin() + std::ptrdiff_t(nRand));
    for (int64_t i = Tp - nLast; i < Tp; ++i) probes.push_back(i);
    std::sort(probes.begin(), probes.end());
    in.zipProbes = probes;
    in.zipRows.assign(size_t(Tp), 0.f);
    for (int64_t i : probes)
        for (int64_t j = in.slidingWindow > 0 ? std::max<int64_t>(0, i - in.slidingWindow + 1) : 0; j <= i; ++j)
            in.zipRows[size_t(j)] += 1.f;
    in.zipSum.assign(size_t(L * Hkv * Tp), 0.f);
    for (int64_t l = 0; l < L; ++l) {
        at::Tensor acc = at::zeros({H, Tp}, at::kFloat);
        for (int64_t i : probes) {
            if (i >= Tp - nLast) continue;
            acc.slice(1, 0, i + 1).add_(core::probabilityTile(ctx.views[size_t(l)], -1, i, i + 1, 0, i + 1).select(1, 0));
        }
        acc.add_(core::probabilityTile(ctx.views[size_t(l)], -1, Tp - nLast, Tp, 0, Tp).sum(1));
        at::Tensor g = acc.reshape({Hkv, G, Tp}).sum(1).contiguous();
        std::copy(g.data_ptr<float>(), g.data_ptr<float>() + Hkv * Tp, in.zipSum.begin() + std::ptrdiff_t(l * Hkv * Tp));
    }
}

namespace {

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const int64_t Tp = in.promptLength;
    if (in.zipSum.empty()) fail(ErrorKind::BadInput, "zipcache needs its probe sums in the inputs");
    const double low = p.get("low_ratio");
    const int64_t salient = low >= 0 ? Tp - int64_t(low * double(Tp)) : budgetOf(p);
    const bool exact = p.get("exact_count") > 0;
    sel.highBits = int(p.get("high_bits"));
    sel.lowBits = int(p.get("low_bits"));
    std::vector<float> s(static_cast<size_t>(Tp));
    for (int l = 0; l < in.nLayers; ++l)
        for (int g = 0; g < in.nKvHeads; ++g) {
            const float* sum = in.zipSum.data() + (int64_t(l) * in.nKvHeads + g) * Tp;
            for (int64_t j = 0; j < Tp; ++j) {
                const float den = exact ? in.zipRows[size_t(j)] : float(Tp - j);
                s[size_t(j)] = den > 0 ? sum[j] / den : 0.f;
            }
            sel.kept[size_t(l)][size_t(g)] = topK(s.data(), 0, Tp, salient);
        }
}

// Min-max quantization of x along `dim` groups: x̂ = round((x − min)/Δ)·Δ + min, 2^bits levels.
at::Tensor minMax(const at::Tensor& x, int64_t dim, int bits) {
    if (bits >= 16) return x;
    at::Tensor mn = std::get<0>(x.min(dim, true)), mx = std::get<0>(x.max(dim, true));
    at::Tensor step = (mx - mn) / double((1 << bits) - 1);
    at::Tensor safe = at::where(step > 0, step, at::ones_like(step));
    at::Tensor q = at::clamp(at::round((x - mn) / safe), 0, (1 << bits) - 1);
    return at::where(step > 0, q * safe + mn, x);
}

}  // namespace

void zipQuantize(at::Tensor& k, at::Tensor& v, const KvSelection& sel, int layer, int highBits, int lowBits) {
    const int64_t Tp = sel.promptLength;
    for (int g = 0; g < sel.heads; ++g) {
        std::vector<uint8_t> salient(size_t(Tp), 0);
        for (int64_t j : sel.kept[size_t(layer)][size_t(g)]) salient[size_t(j)] = 1;
        std::vector<int64_t> hi, lo;
        for (int64_t j = 0; j < Tp; ++j) (salient[size_t(j)] ? hi : lo).push_back(j);
        at::Tensor kg = k.slice(0, 0, Tp).select(1, g), vg = v.slice(0, 0, Tp).select(1, g);  // [Tp, d]
        const at::Tensor vScale = at::sqrt(vg.abs().amax(0, true));                        // [1, d]
        const at::Tensor vSafe = at::where(vScale > 0, vScale, at::ones_like(vScale));
        for (int part = 0; part < 2; ++part) {
            const std::vector<int64_t>& idx = part == 0 ? hi : lo;
            if (idx.empty()) continue;
            const int bits = part == 0 ? highBits : lowBits;
            if (bits >= 16) continue;  // unquantized (the value scaling would round)
            at::Tensor rows = at::tensor(idx, at::kLong).to(k.device());
            // Keys: per channel over this saliency group's tokens.
            kg.index_copy_(0, rows, minMax(kg.index_select(0, rows), 0, bits));
            // Values: per token, on the channel-scaled values.
            vg.index_copy_(0, rows, minMax(vg.index_select(0, rows) / vSafe, 1, bits) * vSafe);
        }
    }
}

const KvPolicyEntry& zipCachePolicy() {
    static const KvPolicyEntry e{
        {"zipcache", "ZipCache: saliency split, 4-bit salient / 2-bit rest (no eviction)",
         "§2.7; ThisisBillhe/ZipCache modeling_llama.py, CompressUtils/compress_function.py", false, true,
         {{"low_ratio", -1, -1, 1, {}, "share of tokens at low precision (k_unimportant_ratio 0.4 [SRC]); -1: budget = salient count", false},
          {"exact_count", 0, 0, 1, {}, "0: divide by T − j [SRC]; 1: by the probe rows that see j [RECON, nnz]", false},
          {"high_bits", 4, 1, 16, {}, "bits of salient tokens (4 [SRC]; 16 = unquantized)", false},
          {"low_bits", 2, 1, 16, {}, "bits of the other tokens (2 [SRC])", false},
          {"probe_ratio", 0.05, 0.0, 1, {}, "probe share: last 5% + 5% random [SRC]", true},
          {"probe_seed", 0, 0, 9007199254740992.0, {}, "seed of the random probes", true}}},
        perKvHead,
        select,
        nullptr};
    return e;
}

}  // namespace attnscope::kv
