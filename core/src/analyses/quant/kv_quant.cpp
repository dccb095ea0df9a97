// KV-cache quantizers, simulated on one layer's prefilled cache (reference §3):
//  KIVI      keys per channel over G-token groups, values per token over G channels, an
//            fp16 residual window ([SRC] KIVI quant/new_pack.py, models/llama_kivi.py);
//  Hadamard  k·H_d and v·H_d, then OSCAR's per-token INT quantizer (QuaRot-INT2 baseline);
//  OSCAR     attention-aware rotations U·H_d·P_br calibrated on the prompt, row clipping,
//            INT quantizer with a float zero point, BF16 sink and recent windows ([SRC]
//            OSCAR rotation/compute_kv_rotation.py, QuantKernel/gpu_flush_int2.py);
//  ZipCache  saliency from probe queries, salient tokens at 4 bits and the rest at 2; keys
//            per channel per subset, values channel-separable per token ([SRC] ZipCache
//            compress_function.py, modeling_llama.py).
#include <ATen/ATen.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <random>

#include "analyses/quant/kv_detail.h"
#include "attnscope/enum_names.h"
#include "attnscope/error.h"

namespace attnscope {

namespace {

constexpr EnumName<KvMethod> kKvMethodNames[] = {{KvMethod::Kivi, "kivi"},
                                                 {KvMethod::Hadamard, "hadamard"},
                                                 {KvMethod::Oscar, "oscar"},
                                                 {KvMethod::ZipCache, "zipcache-mixed"}};

}  // namespace

const char* kvMethodName(KvMethod m) { return enumName(kKvMethodNames, m); }

KvMethod parseKvMethod(const std::string& s) {
    if (s == "zipcache")
        fail(ErrorKind::BadInput, "'zipcache' is the KV eviction policy; its mixed-precision KV quantizer is "
                                  "'zipcache-mixed'");
    return parseEnum(kKvMethodNames, s, "KV method");
}

double kvEffectiveBits(double n, double nHighPrecision, double bits, double paramBits, double group) {
    if (n <= 0) return 0;
    return ((n - nHighPrecision) * (bits + 2 * paramBits / group) + 16 * nHighPrecision) / n;
}

std::vector<double> hadamardMatrix(int d) {
    if (d <= 0 || !std::has_single_bit(unsigned(d))) fail(ErrorKind::BadInput, "Hadamard size must be a power of two");
    // Sylvester: H_{2n} = [[H, H], [H, −H]] / √2, built as ±1 then scaled once.
    std::vector<double> h(size_t(d) * size_t(d));
    const double s = 1.0 / std::sqrt(double(d));
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) h[size_t(i) * size_t(d) + size_t(j)] = (std::popcount(unsigned(i & j)) & 1) ? -s : s;
    return h;
}

namespace kv_detail {

namespace {

at::Tensor hadamardTensor(int d) {
    return at::tensor(hadamardMatrix(d), at::kDouble).reshape({d, d});
}

// KIVI's min-max group quantizer: reduce over `dim`, clamp then round (torch.round).
at::Tensor kiviQuant(const at::Tensor& x, int64_t dim, int bits, bool fp16Params) {
    at::Tensor mn = x.amin(dim, true), mx = x.amax(dim, true);
    const double maxq = double((1 << bits) - 1);
    at::Tensor scale = (mx - mn) / maxq;
    if (fp16Params) {  // scale and min are stored in fp16
        scale = scale.to(at::kHalf).to(at::kFloat);
        mn = mn.to(at::kHalf).to(at::kFloat);
    }
    at::Tensor q = ((x - mn) / scale).clamp(0, maxq).round();
    q = at::where(scale == 0, at::zeros_like(q), q);  // a constant group: KIVI would divide by 0
    return q * scale + mn;
}

KvOut kivi(const LayerQkv& x, const KvQuantParams& p) {
    const int64_t T = x.T(), G = p.group > 0 ? p.group : 32, R = p.residual >= 0 ? p.residual : 128;
    const int64_t Hkv = x.Hkv(), d = x.d();
    // Values group channels: by default 32, or the whole head when it has fewer (tiny models).
    const int64_t Gv = p.group > 0 ? p.group : std::min<int64_t>(32, d);
    if (R > 0 && R % G != 0) fail(ErrorKind::BadInput, "KIVI: the residual window must be a multiple of the group size");
    if (d % Gv != 0) fail(ErrorKind::BadInput, "KIVI: the head dim must be a multiple of the group size (values)");
    auto fpWindow = [&](const at::Tensor& t) { return p.fp16Params ? t.to(at::kHalf).to(at::kFloat) : t.clone(); };
    KvOut o;
    // Keys: prefill quantizes the first T − (T mod R) tokens in groups of G tokens per channel.
    const int64_t tq = R > 0 ? T - T % R : T - T % G;
    o.k = fpWindow(x.k);
    if (tq > 0)
        o.k.slice(0, 0, tq).copy_(kiviQuant(x.k.slice(0, 0, tq).reshape({tq / G, G, Hkv, d}), 1, p.bits, p.fp16Params)
                                      .reshape({tq, Hkv, d}));
    // Values: the last R tokens stay in fp16, the rest per token in groups of G channels.
    const int64_t tv = std::max<int64_t>(T - R, 0);
    o.v = fpWindow(x.v);
    if (tv > 0)
        o.v.slice(0, 0, tv).copy_(
            kiviQuant(x.v.slice(0, 0, tv).reshape({tv, Hkv, d / Gv, Gv}), 3, p.bits, p.fp16Params).reshape({tv, Hkv, d}));
    o.bitsK = kvEffectiveBits(double(T), double(T - tq), p.bits, 16, double(G));
    o.bitsV = kvEffectiveBits(double(T), double(T - tv), p.bits, 16, double(Gv));
    o.highPrecision.assign(size_t(T), 0);
    for (int64_t t = std::min(tq, tv); t < T; ++t) o.highPrecision[size_t(t)] = 1;
    return o;
}

// OSCAR's rotation from a target covariance: R = U·H_d·P_br, U the eigenvectors (ascending),
// P_br = I[:, perm] with perm[bitrev(i)] = argsort(λ, descending)[i].
at::Tensor oscarRotation(const at::Tensor& c) {
    const int64_t d = c.size(0);
    auto [lambda, u] = at::linalg_eigh(0.5 * (c + c.t()));
    const at::Tensor order = lambda.argsort(0, true);
    const int bits = std::countr_zero(uint64_t(d));
    std::vector<int64_t> perm(static_cast<size_t>(d));
    for (int64_t i = 0; i < d; ++i) {
        uint64_t r = 0;
        for (int b = 0; b < bits; ++b) r |= ((uint64_t(i) >> b) & 1u) << (bits - 1 - b);
        perm[r] = order[i].item<int64_t>();
    }
    return u.mm(hadamardTensor(int(d))).index_select(1, at::tensor(perm, at::kLong));
}

// The K and V rotations of one layer from its prompt (float64): C_Q per KV head from its
// query group, C_V from values weighted by w_t = k_t C_Q^{(h)} k_tᵀ (normalised to mean 1).
std::pair<at::Tensor, at::Tensor> oscarRotations(const LayerQkv& x, int skip) {
    const int64_t T = x.T(), H = x.H(), Hkv = x.Hkv(), d = x.d(), g = H / Hkv;
    const int64_t s = std::clamp<int64_t>(skip, 0, T - 1), N = T - s;
    const at::Tensor q = x.q.slice(0, s, T).to(at::kDouble), k = x.k.slice(0, s, T).to(at::kDouble),
                     v = x.v.slice(0, s, T).to(at::kDouble);
    at::Tensor cq = at::zeros({d, d}, at::kDouble), cv = at::zeros({d, d}, at::kDouble);
    for (int64_t h = 0; h < Hkv; ++h) {
        const at::Tensor qh = q.slice(1, h * g, (h + 1) * g).reshape({N * g, d});
        const at::Tensor cqh = qh.t().mm(qh) / double(N * g);
        cq += cqh;
        const at::Tensor kh = k.select(1, h), vh = v.select(1, h);  // [N, d]
        at::Tensor w = (kh.mm(cqh) * kh).sum(1);
        w = w * double(N) / std::max(w.sum().item<double>(), 1e-12);
        cv += (vh * w.unsqueeze(1)).t().mm(vh) / double(N);
    }
    cq /= double(Hkv);
    cv /= double(Hkv);
    return {oscarRotation(cq), oscarRotation(cv)};
}

// One side (K or V) through rotation, row clipping, the per-group INT quantizer with a float
// zero point, BF16 for the sink and recent tokens, and back.
at::Tensor rotatedSide(const at::Tensor& a, const at::Tensor& rot, double clip, int bits, int64_t G,
                       const std::vector<uint8_t>& hp) {
    const int64_t T = a.size(0), Hkv = a.size(1), d = a.size(2);
    const at::Tensor rotated = a.matmul(rot.to(at::kFloat));  // rows right-multiplied: k' = k R
    at::Tensor r = rotated;
    if (clip < 1.0) {  // only what is flushed to INT is clipped; the BF16 windows are not  // thr = sort(|row|)[⌊r·D⌋], clamped to D−1
        const int64_t idx = std::min<int64_t>(int64_t(std::floor(clip * double(d))), d - 1);
        const at::Tensor thr = std::get<0>(r.abs().sort(-1)).select(-1, idx).unsqueeze(-1);
        r = at::maximum(at::minimum(r, thr), -thr);
    }
    const double maxq = double((1 << bits) - 1);
    const at::Tensor g = r.reshape({T, Hkv, d / G, G});
    const at::Tensor mn = g.amin(-1, true), mx = g.amax(-1, true);
    const at::Tensor s = (mx - mn).clamp_min(1e-8) / maxq, z = -mn / s;
    const at::Tensor q = at::floor(g / s + z + 0.5).clamp(0, maxq);
    at::Tensor deq = ((q - z) * s).reshape({T, Hkv, d});
    const at::Tensor keep = at::tensor(std::vector<int64_t>(hp.begin(), hp.end()), at::kLong).to(at::kBool);
    deq = at::where(keep.view({T, 1, 1}), rotated.to(at::kBFloat16).to(at::kFloat), deq);
    return deq.matmul(rot.t().to(at::kFloat));  // dequantized rows back: result @ Rᵀ
}

KvOut rotated(const LayerQkv& x, const KvQuantParams& p, bool oscar) {
    const int64_t T = x.T(), d = x.d();
    if (!std::has_single_bit(uint64_t(d)))
        fail(ErrorKind::BadInput, std::string(oscar ? "OSCAR" : "Hadamard") + " needs a power-of-two head dim");
    const int64_t G = p.group > 0 ? p.group : std::min<int64_t>(128, d);
    if (d % G != 0) fail(ErrorKind::BadInput, "the head dim must be a multiple of the group size");
    const int64_t sink = p.sink >= 0 ? p.sink : (oscar ? 64 : 0);
    const int64_t recent = p.residual >= 0 ? p.residual : (oscar ? 256 : 0);
    KvOut o;
    o.highPrecision.assign(size_t(T), 0);
    int64_t nhp = 0;
    for (int64_t t = 0; t < T; ++t)
        if (t < sink || t >= T - recent) {
            o.highPrecision[size_t(t)] = 1;
            ++nhp;
        }
    at::Tensor rk, rv;
    if (oscar) std::tie(rk, rv) = oscarRotations(x, p.oscarCalibSkip);
    else rk = rv = hadamardTensor(int(d));
    o.k = rotatedSide(x.k, rk, oscar ? p.kClip : 1.0, p.bits, G, o.highPrecision);
    o.v = rotatedSide(x.v, rv, oscar ? p.vClip : 1.0, p.bits, G, o.highPrecision);
    o.bitsK = o.bitsV = kvEffectiveBits(double(T), double(nhp), p.bits, 16, double(G));
    return o;
}

// ZipCache's normalised attention score per KV head: probe rows = the last 5 % and 5 % drawn
// from the rest; Σ over the group's query heads and the probes, divided by (T − j).
at::Tensor zipSaliency(const LayerQkv& x, const KvQuantParams& p) {
    const int64_t T = x.T(), Hkv = x.Hkv(), g = x.H() / Hkv;
    const int64_t nProbe = std::max<int64_t>(1, int64_t(p.zipProbeRatio * double(T)));
    std::vector<int64_t> probes;
    for (int64_t i = std::max<int64_t>(T - nProbe, 0); i < T; ++i) probes.push_back(i);
    std::vector<int64_t> earlier(size_t(std::max<int64_t>(T - nProbe, 0)));
    std::iota(earlier.begin(), earlier.end(), 0);
    std::mt19937_64 rng(p.seed);
    const size_t nRandom = std::min(earlier.size(), size_t(nProbe));
    for (size_t i = 0; i < nRandom; ++i) {  // partial Fisher–Yates: without replacement
        std::uniform_int_distribution<size_t> pick(i, earlier.size() - 1);
        std::swap(earlier[i], earlier[pick(rng)]);
        probes.push_back(earlier[i]);
    }
    const at::Tensor pos = at::tensor(probes, at::kLong);
    const at::Tensor kp = at::arange(T, at::kLong).unsqueeze(0), qp = pos.unsqueeze(1);
    at::Tensor visible = kp <= qp;
    if (x.window > 0) visible = visible.logical_and(qp - kp < x.window);
    const at::Tensor qs = x.q.index_select(0, pos);  // [P, H, d]
    at::Tensor sal = at::zeros({Hkv, T}, at::kDouble);
    for (int64_t h = 0; h < Hkv; ++h) {
        for (int64_t j = 0; j < g; ++j) {
            const at::Tensor s = qs.select(1, h * g + j).mm(x.k.select(1, h).t()) * x.scale;  // [P, T]
            const at::Tensor a = at::softmax(s.masked_fill(visible.logical_not(), -INFINITY), -1);
            sal.select(0, h).add_(a.sum(0).to(at::kDouble));
        }
    }
    return sal / at::arange(T, 0, -1, at::kDouble).unsqueeze(0);  // ÷ (T − j)
}

KvOut zipcache(const LayerQkv& x, const KvQuantParams& p) {
    const int64_t T = x.T(), Hkv = x.Hkv(), d = x.d();
    const at::Tensor sal = zipSaliency(x, p);
    const int64_t nLow = std::min<int64_t>(T, int64_t(std::floor(p.zipLowRatio * double(T))));
    KvOut o;
    o.k = at::empty_like(x.k);
    o.v = at::empty_like(x.v);
    double bitsK = 0, bitsV = 0;
    for (int64_t h = 0; h < Hkv; ++h) {
        const at::Tensor order = std::get<1>(sal.select(0, h).sort(true, 0, false));  // stable, ascending
        const at::Tensor kh = x.k.select(1, h), vh = x.v.select(1, h);   // [T, d]
        // channel scale c = √(max_t |v|) over all tokens, before the split
        at::Tensor c = vh.abs().amax(0, true).sqrt();
        c = at::where(c == 0, at::ones_like(c), c);
        for (int part = 0; part < 2; ++part) {
            const at::Tensor ids = part == 0 ? order.slice(0, 0, nLow) : order.slice(0, nLow, T);
            const int64_t n = ids.size(0);
            if (n == 0) continue;
            const int bits = part == 0 ? p.bits : p.zipHighBits;
            const double maxq = double((1 << bits) - 1);
            auto minmax = [&](const at::Tensor& a, int64_t dim) {  // round((a − min)/s), no clamp
                const at::Tensor mn = a.amin(dim, true), s = (a.amax(dim, true) - mn) / maxq;
                const at::Tensor q = at::where(s == 0, at::zeros_like(a), ((a - mn) / s).round());
                return q * s + mn;
            };
            o.k.select(1, h).index_copy_(0, ids, minmax(kh.index_select(0, ids), 0));  // per channel
            o.v.select(1, h).index_copy_(0, ids, minmax(vh.index_select(0, ids) / c, 1) * c);  // per token
            bitsK += double(n * d * bits + d * 2 * 16);
            bitsV += double(n * d * bits + n * 2 * 16);
        }
        bitsV += double(d * 16);  // the channel scales
    }
    o.bitsK = bitsK / double(T * Hkv * d);
    o.bitsV = bitsV / double(T * Hkv * d);
    o.highPrecision.assign(size_t(T), 0);
    return o;
}

}  // namespace

KvOut quantizeKv(const LayerQkv& x, const KvQuantParams& p) {
    if (p.bits < 1 || p.bits > 8) fail(ErrorKind::BadInput, "KV bits must be in [1, 8]");
    if (x.T() == 0) fail(ErrorKind::BadInput, "empty cache");
    switch (p.method) {
    case KvMethod::Kivi: return kivi(x, p);
    case KvMethod::Hadamard: return rotated(x, p, false);
    case KvMethod::Oscar: return rotated(x, p, true);
    case KvMethod::ZipCache:
        if (p.zipHighBits < 1 || p.zipHighBits > 8) fail(ErrorKind::BadInput, "ZipCache high bits must be in [1, 8]");
        return zipcache(x, p);
    }
    fail(ErrorKind::Internal, "unknown KV method");
}

}  // namespace kv_detail

}  // namespace attnscope
