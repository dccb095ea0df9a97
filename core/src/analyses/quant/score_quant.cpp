// SageAttention2-style simulation of quantized Q·Kᵀ (reference §3.5, [SRC] thu-ml/SageAttention
// core.py, quant.py, triton/quant_per_thread.py; Q smoothing [PAPER]): K smoothed by its
// sequence mean, Q optionally by its block means (added back as q̄·K'ᵀ in high precision),
// symmetric INT8/INT4 with one scale per row group, Ŝ = δ_Qδ_K(q_int·k_intᵀ) [+ ΔS] [+ q·k̄].
// P̃ and V through FP8 E4M3 only where libtorch has Float8 (torch ≥ 2.1).
#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>

#include "analyses/quant/kv_detail.h"
#include "attnscope/enum_names.h"
#include "attnscope/error.h"
#include "model/model_impl.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define ATTNSCOPE_HAVE_FP8 1
#else
#define ATTNSCOPE_HAVE_FP8 0
#endif

namespace attnscope {

namespace {

constexpr EnumName<ScoreGroups> kScoreGroupNames[] = {
    {ScoreGroups::PerBlock, "block"}, {ScoreGroups::PerWarp, "warp"}, {ScoreGroups::PerThread, "thread"}};

}  // namespace

const char* scoreGroupsName(ScoreGroups g) { return enumName(kScoreGroupNames, g); }
ScoreGroups parseScoreGroups(const std::string& s) {
    return parseEnum(kScoreGroupNames, s, "score quantization groups");
}

bool fp8Supported() { return ATTNSCOPE_HAVE_FP8 != 0; }

namespace {

namespace kd = kv_detail;

// Group id of each row: the scale granularity of the Q or K operand.
at::Tensor groupIds(int64_t T, const ScoreQuantParams& p, bool isQ) {
    std::vector<int64_t> ids(static_cast<size_t>(T));
    for (int64_t r = 0; r < T; ++r) {
        int64_t g = 0;
        if (isQ) {
            switch (p.groups) {
            case ScoreGroups::PerBlock: g = r / p.blockQ; break;
            case ScoreGroups::PerWarp: g = r / p.warpQ; break;
            case ScoreGroups::PerThread: g = (r / p.warpQ) * 8 + r % 8; break;  // rows r ≡ t (mod 8)
            }
        } else {
            g = p.groups == ScoreGroups::PerThread ? (r / p.blockK) * 4 + (r % 8) / 2  // rows 8m+2t, 8m+2t+1
                                                    : r / p.blockK;
        }
        ids[size_t(r)] = g;
    }
    return at::tensor(ids, at::kLong);
}

// ψ⁻¹(ψ(x)): symmetric, δ = max|x_g| / qmax + 1e-7 per group of rows; returns the
// dequantized rows and adds the group count to `groups`.
at::Tensor quantRows(const at::Tensor& x, const at::Tensor& ids, const ScoreQuantParams& p, int64_t& groups) {
    const double qmax = p.bits == 4 ? 7.0 : 127.0;
    const int64_t n = ids.max().item<int64_t>() + 1;
    groups += n;
    const at::Tensor rowMax = x.abs().amax(1);  // [T]
    at::Tensor gmax = at::zeros({n}, at::kFloat);
    const float* rm = rowMax.contiguous().data_ptr<float>();
    const int64_t* id = ids.data_ptr<int64_t>();
    float* gm = gmax.data_ptr<float>();
    for (int64_t r = 0; r < x.size(0); ++r) gm[id[r]] = std::max(gm[id[r]], rm[r]);
    const at::Tensor delta = (gmax / qmax + 1e-7).index_select(0, ids).unsqueeze(1);  // [T, 1]
    const at::Tensor y = x / delta;
    // CUDA's float_to_int8_rn rounds half to even; Triton's trunc(x + 0.5·sign) half away.
    const at::Tensor q = p.roundHalfEven ? y.round() : y.sign() * at::floor(y.abs() + 0.5);
    return q * delta;
}

// mapHead >= 0: also fill *map with that head's |Ŝ − S| (kd::scoreErrorMap).
void scoreLayer(const kd::LayerQkv& x, const ScoreQuantParams& p, int layer, AttnQuantResult& r, int mapHead = -1,
                Matrix2D* map = nullptr) {
    const int64_t T = x.T(), H = x.H(), Hkv = x.Hkv(), g = H / Hkv, d = x.d();
    const bool quantize = p.bits != 0;
    int64_t groupsQ = 0, groupsK = 0;
    // K side, per KV head: K' = K − k̄ (whole-sequence mean), then quantized.
    const at::Tensor kbar = p.smoothK ? x.k.mean(0, true) : at::zeros({1, Hkv, d}, at::kFloat);  // [1, Hkv, d]
    const at::Tensor ks = x.k - kbar;
    const at::Tensor kIds = groupIds(T, p, false);
    std::vector<at::Tensor> kHat(static_cast<size_t>(Hkv));
    for (int64_t h = 0; h < Hkv; ++h) kHat[size_t(h)] = quantize ? quantRows(ks.select(1, h), kIds, p, groupsK) : ks.select(1, h);
    at::Tensor kHatAll = at::stack(kHat, 1) + kbar;  // the dequantized K operand, un-smoothed
    // Q side, per query head, cached for the head layerErrors is working on.
    const at::Tensor qIds = groupIds(T, p, true);
    const at::Tensor blockOf = at::arange(T, at::kLong).div(p.blockQ, "floor");
    int cachedHead = -1;
    at::Tensor qHat, qBar;  // [T, d]
    auto prepareHead = [&](int h) {
        if (h == cachedHead) return;
        cachedHead = h;
        const at::Tensor qh = x.q.select(1, h);
        if (p.smoothQ) {  // γ(Q_i) = Q_i − q̄_i per block of blockQ rows
            const int64_t nb = (T + p.blockQ - 1) / p.blockQ;
            const at::Tensor sums = at::zeros({nb, d}, at::kFloat).index_add_(0, blockOf, qh);
            const at::Tensor counts = at::bincount(blockOf).to(at::kFloat).unsqueeze(1);
            qBar = (sums / counts).index_select(0, blockOf);
        } else {
            qBar = at::zeros_like(qh);
        }
        int64_t unused = 0;
        qHat = quantize ? quantRows(qh - qBar, qIds, p, h == 0 ? groupsQ : unused) : qh - qBar;
    };
    auto scores = [&](int h, int64_t q0, int64_t q1) {
        prepareHead(h);
        const at::Tensor kh = ks.select(1, h / g).slice(0, 0, q1);
        at::Tensor s = qHat.slice(0, q0, q1).mm(kHat[size_t(h / g)].slice(0, 0, q1).t());
        if (p.smoothQ) s = s + qBar.slice(0, q0, q1).mm(kh.t());  // ΔS = q̄ K'ᵀ, high precision
        if (p.smoothK && p.addBackRowBias)  // the LSE correction q·k̄, constant along each row
            s = s + x.q.select(1, h).slice(0, q0, q1).mm(kbar.select(1, h / g).t());
        return s * x.scale;
    };
    at::Tensor vHat = x.v;
    bool fp8 = false;
#if ATTNSCOPE_HAVE_FP8
    if (p.fp8PV) {  // V per channel: δ_c = amax_t |V| / 448
        fp8 = true;
        at::Tensor dc = x.v.abs().amax(0, true) / 448.0;
        dc = at::where(dc == 0, at::ones_like(dc), dc);
        vHat = (x.v / dc).to(at::kFloat8_e4m3fn).to(at::kFloat) * dc;
    }
#endif
    auto output = [&](int h, int64_t, int64_t q1, const at::Tensor& lhat) {
        const at::Tensor vh = vHat.select(1, h / g).slice(0, 0, q1);
#if ATTNSCOPE_HAVE_FP8
        if (fp8) {  // P̃ = 2^(s·log2e − m + 8.807) ∈ (0, 448], normalised by its fp32 row sum
            const double log2e = 1.4426950408889634;
            const at::Tensor z = lhat * log2e;
            const at::Tensor pt = at::exp2(z - std::get<0>(z.max(1, true)) + 8.807);
            return pt.to(at::kFloat8_e4m3fn).to(at::kFloat).mm(vh) / pt.sum(1, true);
        }
#endif
        return at::softmax(lhat, -1).mm(vh);
    };
    kd::layerErrors(x, scores, output, layer, r);
    if (map) *map = kd::scoreErrorMap(x, scores, mapHead);
    r.tokens[size_t(layer)].keyRelErr = kd::tokenRelErr(x.k, kHatAll);
    r.tokens[size_t(layer)].valueRelErr = fp8 ? kd::tokenRelErr(x.v, vHat) : std::vector<float>(size_t(T), 0.f);
    r.fp8Applied = fp8;
    if (quantize) {  // one fp32 scale per group
        r.bitsK += (p.bits + 32.0 * double(groupsK) / double(T * Hkv * d)) / r.nLayers;
        r.bitsQ += (p.bits + 32.0 * double(groupsQ) / double(T * d)) / r.nLayers;
    }
}

void checkParams(const ScoreQuantParams& p) {
    if (p.bits != 0 && p.bits != 4 && p.bits != 8) fail(ErrorKind::BadInput, "score quantization bits must be 8, 4 or 0");
    if (p.blockQ <= 0 || p.blockK <= 0 || p.warpQ <= 0 || p.warpQ % 8 != 0 || p.blockK % 8 != 0)
        fail(ErrorKind::BadInput, "score quantization blocks must be positive (warpQ and blockK multiples of 8)");
}

void initScoreResult(AttnQuantResult& r, const kd::LayerQkv& x, int nLayers, const ScoreQuantParams& p) {
    r.method = std::string("sage-int") + std::to_string(p.bits) + "-" + scoreGroupsName(p.groups);
    r.nLayers = nLayers;
    r.nHeads = x.H();
    r.T = x.T();
    r.heads.assign(size_t(nLayers * x.H()), {});
    r.tokens.assign(size_t(nLayers), {});
}

}  // namespace

AttnQuantResult analyseScoreQuant(const QkvTensors& x, const ScoreQuantParams& p) {
    checkParams(p);
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const kd::LayerQkv l = kd::fromQkvTensors(x);
        AttnQuantResult r;
        initScoreResult(r, l, 1, p);
        scoreLayer(l, p, 0, r);
        return r;
    });
}

AttnQuantResult analyseScoreQuant(const Trace& trace, const ScoreQuantParams& p, const JobControl& job) {
    checkParams(p);
    return kd::overTraceLayers(
        trace, job, "score analysis",
        [&](AttnQuantResult& r, const kd::LayerQkv& x, int n) { initScoreResult(r, x, n, p); },
        [&](const kd::LayerQkv& x, int l, AttnQuantResult& r) { scoreLayer(x, p, l, r); });
}

Matrix2D scoreQuantErrorMap(const Trace& trace, int layer, int head, const ScoreQuantParams& p) {
    checkParams(p);
    if (layer < 0 || layer >= trace.nLayers()) fail(ErrorKind::BadInput, "no layer " + std::to_string(layer));
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const kd::LayerQkv x = kd::traceLayer(trace, layer);
        AttnQuantResult r;
        initScoreResult(r, x, 1, p);
        Matrix2D map;
        scoreLayer(x, p, 0, r, head, &map);
        return map;
    });
}

}  // namespace attnscope
