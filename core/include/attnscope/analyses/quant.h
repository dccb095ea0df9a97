// Quantization error lab (issue 8; definitions in shared/reference/weibull-and-quantization.md
// §2–§5): weight quantizers with low-rank error reconstruction (LoRC, LQER, QERA), the
// fake-quantized model's perplexity and KL, KV-cache quantizers (KIVI, Hadamard, OSCAR,
// ZipCache) and SageAttention2-style Q/K quantization of the attention scores.
// Plain structs and functions; no torch, no Qt.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attnscope/job.h"
#include "attnscope/model.h"
#include "attnscope/views.h"

namespace attnscope {

// ---------------------------------------------------------------- weight quantizers

// One registry entry per weight quantizer (core/src/analyses/quant/quantizer_registry.cpp).
struct WeightQuantizerInfo {
    const char* name;   // rtn-sym, rtn-asym, mxint, nf4
    const char* help;
    int defaultGroup;   // consecutive input channels per group; -1 = one group per output row
    int minBits, maxBits;
};
const std::vector<WeightQuantizerInfo>& weightQuantizers();
const WeightQuantizerInfo& findWeightQuantizer(const std::string& name);  // throws Error(BadInput)

struct WeightQuantParams {
    std::string scheme = "rtn-sym";
    int bits = 4;
    // rtn: g consecutive input channels per (row, group), -1 = per output row (GPTQ's
    // per-channel); mxint: block size (32); nf4: block over the flattened matrix (64).
    // 0 = the scheme's default.
    int group = 0;
    bool mseClip = false;  // rtn only: RSQ's --w_clip grid search (p = 1 − i/100, norm 2.4)
    bool bf16Input = true; // mxint only: QERA casts the weights to bf16 before quantizing
};

// Fake-quantizes a row-major [rows, cols] matrix in nn.Linear layout (out × in), groups
// along cols. Throws Error(BadInput) for an unknown scheme or bits outside its range.
std::vector<float> fakeQuantize(const float* w, int64_t rows, int64_t cols, const WeightQuantParams& p);

// The normal-float code book of LoftQ's NFQuantizer / bitsandbytes (2^bits values in
// [−1, 1], ascending; bits = 4 is NF4).
std::vector<float> normalFloatTable(int bits);

// ---------------------------------------------------------------- error reconstruction

enum class ReconMethod {
    None,        // Ŵ = Q(W)
    Lorc,        // ZeroQuant-V2 LoRC: S = I, the plain truncated SVD of the error
    Lqer,        // S = diag(mean|x|), clamped at 1e-4 and normalised by √(min·max)
    QeraApprox,  // S = diag(√E[x²])
    QeraExact,   // S = R^{1/2} (or any S with SᵀS = R): the output-error optimum
};
const char* reconMethodName(ReconMethod m);  // none lorc lqer qera-approx qera-exact
ReconMethod parseReconMethod(const std::string& s);  // throws Error(BadInput)
inline constexpr ReconMethod kReconMethods[] = {ReconMethod::Lorc, ReconMethod::Lqer, ReconMethod::QeraApprox,
                                                ReconMethod::QeraExact};

enum class SqrtRoute { Eigh, Cholesky };  // how QERA-exact factors R (§2.2; both give the same C*)

struct ReconParams {
    SqrtRoute route = SqrtRoute::Eigh;
    // [RECON] eigh route: eigenvalues clamped at eigFloor·λmax. Cholesky route: retried
    // with damp·mean(diag R) added (50 tries, GPTQ's add_until_fail) when R is singular.
    double eigFloor = 1e-8;
    double damp = 0.0;      // added to R's diagonal as damp·mean(diag R) before factoring
    std::vector<ReconMethod> methods;  // which to prepare; empty = all four
    int maxRank = -1;       // ranks 0..maxRank kept; -1 = min(out, in)
    // Where the SVDs and the rank-r products run ("cpu" or "cuda"; the GPU benchmark's
    // 4096 x 4096 case). Curves and corrected() are host data either way.
    std::string device = "cpu";
};

// Calibration statistics of one linear layer's input.
struct InputStats {
    int64_t dim = 0;
    std::vector<double> r;        // [dim × dim] R = Σ w_t x_tᵀx_t / N (w_t = 1 unless RSQ weighting)
    std::vector<double> meanAbs;  // [dim] LQER: max over calibration windows of mean_t |x_t|
    double tokens = 0;            // N
};

struct ErrorAt {
    double weightRelErr = 0;  // ‖W − Ŵ‖_F / ‖W‖_F
    double outputRelErr = 0;  // √(tr(E R Eᵀ) / tr(W R Wᵀ)), E = W − Ŵ, on the calibration R
    double mse = 0;           // mean((W − Ŵ)²), QERA's logged number
};

// Error of one method at every rank 0..maxRank (index = rank).
struct ReconCurve {
    ReconMethod method = ReconMethod::None;
    std::vector<double> weightRelErr, outputRelErr, mse;
    std::vector<double> sigma;  // singular values of S·Eᵀ
};

// One matrix, every method: one SVD per method at construction, then any rank is a
// table lookup (curves) or one rank-r product (corrected). Not thread-safe.
class ReconLab {
public:
    // w, wq: [out, in] float; stats.dim must equal in.
    ReconLab(const Matrix2D& w, const Matrix2D& wq, const InputStats& stats, const ReconParams& params = {});
    ~ReconLab();
    ReconLab(ReconLab&&) noexcept;
    ReconLab& operator=(ReconLab&&) noexcept;

    int maxRank() const;
    ErrorAt quantOnly() const;                     // Q(W) without reconstruction
    const ReconCurve& curve(ReconMethod m) const;  // throws Error(BadInput) if not prepared
    ErrorAt at(ReconMethod m, int rank) const;     // rank clamped to [0, maxRank]
    // Ŵ = Q(W) + (A_r B_r)ᵀ as [out, in] float, A = S⁻¹U_r, B = Σ_r V_rᵀ.
    Matrix2D corrected(ReconMethod m, int rank) const;
    // QERA-exact's Eckart–Young curve, relative: √(Σ_{i>r} σ_i² / tr(W R Wᵀ)) with σ of
    // R'^{1/2}Eᵀ for the clamped or damped R' actually factored (equals the output error
    // when R' = R).
    std::vector<double> qeraTail() const;
    double dampUsed() const;  // damping the Cholesky route had to add (0 if none)

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

// ---------------------------------------------------------------- the model

// One quantizable linear layer of the decoder (embeddings and lm_head are left alone).
enum class LinearInput { AttnIn, HeadOut, MlpIn, DownIn };  // q/k/v, o, gate/up, down
const char* linearInputName(LinearInput i);                 // attn_in head_out mlp_in down_in
struct QuantMatrix {
    std::string name;       // the file's tensor name; fused tensors get "[q]", "[k]", "[v]"
    int layer = 0;
    std::string component;  // q k v o gate up down
    int64_t rows = 0, cols = 0;  // out, in
    LinearInput input = LinearInput::AttnIn;
};
std::vector<QuantMatrix> quantMatrices(const Model& model);
Matrix2D quantMatrixWeight(const Model& model, const QuantMatrix& m);  // [out, in] float32

struct CalibParams {
    int window = 512;            // tokens per forward pass (text longer than this is split)
    // RSQ AttnCon weighting: token weight from the attention mass it receives in its layer,
    // min-max normalised to [rsqMin, rsqMax] (the scripts' 0.005 and 1), then mean 1.
    bool rsqWeighting = false;
    double rsqMin = 0.005, rsqMax = 1.0;
};

struct Calibration {
    int nLayers = 0;
    std::vector<InputStats> inputs;  // [layer · 4 + LinearInput]
    int64_t tokens = 0;
    const InputStats& of(int layer, LinearInput i) const { return inputs[size_t(layer * 4 + int(i))]; }
};
// Runs the model on each window (ids as given: include BOS yourself) and accumulates R in
// float64. Throws Error(Cancelled) on stop.
Calibration calibrate(Model& model, const std::vector<std::vector<int32_t>>& windows, const CalibParams& params,
                      const JobControl& job = {});

// Random calibration statistics of `dim` channels from `tokens` Gaussian tokens whose channel
// scales are log-normal (a few outlier channels, as in real activations), R in float64
// computed on `device`: the benchmarks' stand-in for a model's inputs.
InputStats syntheticInputStats(int64_t dim, int64_t tokens, uint64_t seed, const std::string& device = "cpu");

// Splits ids into consecutive windows of at most `window` tokens; every window after the
// first starts with `bos` when bos >= 0 (the eval protocol of the reference's §5).
std::vector<std::vector<int32_t>> splitWindows(const std::vector<int32_t>& ids, int window, int32_t bos);

struct QuantParams {
    WeightQuantParams quant;
    ReconMethod recon = ReconMethod::None;
    int rank = 0;
    ReconParams reconParams;
    bool evaluate = true;  // perplexity and KL of the fake-quantized model
};

struct QuantMatrixResult {
    QuantMatrix matrix;
    ErrorAt quant;  // Q(W) alone
    ErrorAt recon;  // with the reconstruction at the requested rank
};

struct QuantModelResult {
    std::vector<QuantMatrixResult> matrices;
    double ppl = 0, pplFp = 0;  // exp(mean NLL) over the eval windows' predicted tokens
    double kl = 0;              // mean over positions of KL(P_fp ‖ P_quant), next-token
    double top1Agreement = 0;   // fraction of positions with the same argmax
    int64_t evalTokens = 0;     // predicted positions
};
// Quantizes every matrix of quantMatrices(), reconstructs at params.rank, and evaluates
// the fake-quantized model against the original on evalWindows.
QuantModelResult quantizeModel(Model& model, const Calibration& calib,
                               const std::vector<std::vector<int32_t>>& evalWindows, const QuantParams& params,
                               const JobControl& job = {});

// One ReconLab per quantMatrices() entry (the panel's bars and curves): quantize, then every
// method's SVD. Throws Error(Cancelled) on stop; progress is the fraction of matrices done.
std::vector<ReconLab> reconLabs(const Model& model, const Calibration& calib, const WeightQuantParams& quant,
                                const ReconParams& params = {}, const JobControl& job = {});

// A copy of `model` whose quantizable matrices are replaced by `weights` (same order as
// quantMatrices(); [out, in] float32). It shares nothing mutable with the original, has no
// tokenizer, and lists its weights under synthesized names.
std::unique_ptr<Model> modelWithWeights(const Model& model, const std::vector<Matrix2D>& weights);

// Perplexity and KL of `quantized` against `reference` on the same windows, over the
// predictions at positions ≥ fromPosition of each window.
struct EvalResult {
    double ppl = 0, pplRef = 0, kl = 0, top1Agreement = 0;
    int64_t tokens = 0;
};
EvalResult compareModels(const Model& reference, const Model& quantized,
                         const std::vector<std::vector<int32_t>>& windows, const JobControl& job = {},
                         int64_t fromPosition = 0);

// ---------------------------------------------------------------- KV cache

enum class KvMethod { Kivi, Hadamard, Oscar, ZipCache };
// kivi hadamard oscar zipcache-mixed ("zipcache" alone names the KV eviction policy)
const char* kvMethodName(KvMethod m);
KvMethod parseKvMethod(const std::string& s);

struct KvQuantParams {
    KvMethod method = KvMethod::Kivi;
    int bits = 2;       // KIVI/Hadamard/OSCAR; ZipCache: the bits of non-salient tokens
    int group = 0;      // 0 = method default: KIVI 32; Hadamard/OSCAR min(128, head dim)
    int residual = -1;  // -1 = default: KIVI's full-precision window 128; OSCAR's recent 256
    int sink = -1;      // -1 = default: OSCAR's BF16 prefix 64 (Hadamard 0)
    bool fp16Params = true;  // KIVI stores scale and min in fp16
    // OSCAR (and optionally Hadamard): row clipping after rotation at sort(|x|)[⌊r·D⌋].
    double kClip = 0.96, vClip = 0.92;  // OSCAR defaults; Hadamard uses 1 (no clip)
    int oscarCalibSkip = 0;  // [RECON] first tokens left out of OSCAR's covariances
    // ZipCache
    int zipHighBits = 4;
    double zipLowRatio = 0.4;   // fraction of tokens per (layer, KV head) at the low bits
    double zipProbeRatio = 0.05;  // last 5 % plus 5 % random earlier probe queries
    uint64_t seed = 0;
};

// Effective bits per element: [(N − N_hp)(b + 2·p/G) + 16·N_hp] / N (§3.1).
double kvEffectiveBits(double n, double nHighPrecision, double bits, double paramBits, double group);

// Orthonormal Sylvester Hadamard matrix H_d (d a power of two), row-major [d × d].
std::vector<double> hadamardMatrix(int d);

// Raw per-layer tensors, row-major: q [T, H·d], k and v [T, Hkv·d] (post-RoPE).
struct QkvTensors {
    int64_t T = 0;
    int nHeads = 0, nKvHeads = 0, headDim = 0;
    float scale = 0;  // logit scale (0 = 1/√d)
    int64_t window = 0;  // sliding window, 0 = full causal
    std::vector<float> q, k, v;
};
struct KvQuantized {
    std::vector<float> k, v;  // dequantized, [T, Hkv·d]
    double bitsK = 0, bitsV = 0;  // effective bits per element
    std::vector<uint8_t> highPrecision;  // [T] token kept in 16-bit (keys or values)
};
// The cache as stored after prefilling all T tokens (each method's residual, sink and
// recent windows as at that moment). Throws Error(BadInput) for unsupported shapes
// (Hadamard/OSCAR need a power-of-two head dim).
KvQuantized fakeQuantizeKv(const QkvTensors& x, const KvQuantParams& p);

// Attention error per (layer, query head), all in fp32 over the causal entries.
struct HeadError {
    int layer = 0, head = 0;
    double scoreRelErr = 0;  // ‖S − Ŝ‖_F / ‖S‖_F, S = q kᵀ·scale
    double scoreMaxAbs = 0;
    double klMean = 0, klMax = 0;  // row KL(P ‖ P̂)
    double tvMean = 0;             // ½Σ|P − P̂| per row, mean
    double outRelErr = 0;          // ‖PV − P̂V̂‖_F / ‖PV‖_F
};
// Which tokens carry the error, per layer.
struct TokenErrors {
    std::vector<float> keyShare;   // [T] share of the layer's Σ(S − Ŝ)² in key column j
    std::vector<float> keyRelErr;  // [T] ‖k̂_j − k_j‖ / ‖k_j‖ over the KV heads (score quant: the K operand)
    std::vector<float> valueRelErr;// [T] (score quant: the FP8 V when applied, else 0)
    std::vector<float> queryOutErr;// [T] ‖o_i − ô_i‖ / ‖o_i‖ over the query heads
};
struct AttnQuantResult {
    std::string method;
    double bitsK = 0, bitsV = 0;  // effective bits per element of the cache (score quant: K operand, 0)
    double bitsQ = 0;             // score quant: the Q operand
    int nLayers = 0, nHeads = 0;
    int64_t T = 0;
    std::vector<HeadError> heads;     // [layer · H + head]
    std::vector<TokenErrors> tokens;  // [layer]
    std::vector<uint8_t> highPrecision;  // [T], KV methods
    bool fp8Applied = false;
};

// Every layer of a trace (needs q, k, v: TracePolicy::keepValues).
AttnQuantResult analyseKvQuant(const Trace& trace, const KvQuantParams& p, const JobControl& job = {});
// The same metrics for one layer's raw tensors.
AttnQuantResult analyseKvQuant(const QkvTensors& x, const KvQuantParams& p);

// |Ŝ − S| of one query head of one layer, S = q kᵀ·scale exact and Ŝ from the quantized
// cache: [T queries, T keys], NaN outside the causal (and sliding) window. The panel's
// per-head score-error map.
Matrix2D kvScoreErrorMap(const Trace& trace, int layer, int head, const KvQuantParams& p);

// ---------------------------------------------------------------- attention scores

enum class ScoreGroups {
    PerBlock,   // one scale per blockQ query rows / blockK key rows (SageAttention 1)
    PerWarp,    // one Q scale per warpQ rows, one K scale per blockK rows
    PerThread,  // SageAttention2's default: Q rows r ≡ t (mod 8) of each warp tile, K rows
                // {8m+2t, 8m+2t+1} of each 64-row tile
};
const char* scoreGroupsName(ScoreGroups g);  // block warp thread
ScoreGroups parseScoreGroups(const std::string& s);

struct ScoreQuantParams {
    int bits = 8;  // 8 (qmax 127) or 4 (qmax 7); 0 = no quantization (smoothing only)
    ScoreGroups groups = ScoreGroups::PerThread;
    bool smoothK = true;   // K − mean_t K (softmax-invariant)
    bool smoothQ = false;  // [PAPER] Q block mean removed, q̄Kᵀ added back in high precision
    int blockQ = 128, blockK = 64, warpQ = 32;
    bool roundHalfEven = false;  // CUDA INT8 rounding; default Triton's half away from zero
    bool addBackRowBias = true;  // add q·k̄ back to Ŝ (the LSE correction) before comparing
    bool fp8PV = false;          // P̃ and V through FP8 E4M3 (needs libtorch with Float8)
};
bool fp8Supported();
AttnQuantResult analyseScoreQuant(const Trace& trace, const ScoreQuantParams& p, const JobControl& job = {});
AttnQuantResult analyseScoreQuant(const QkvTensors& x, const ScoreQuantParams& p);
// kvScoreErrorMap for the quantized Q/K operands (Ŝ with smoothing and the row bias added back).
Matrix2D scoreQuantErrorMap(const Trace& trace, int layer, int head, const ScoreQuantParams& p);

// ---------------------------------------------------------------- the lab's pipeline

// Tokens per calibration forward pass over a prompt (longer prompts are split, no BOS added).
inline constexpr int kCalibrationWindow = 512;
std::vector<std::vector<int32_t>> promptCalibrationWindows(const Model& model, const std::vector<int32_t>& prompt);

// The weight side of the lab: every matrix's error at every rank for every method (one
// ReconLab per matrix, read out into tables; the rank slider never needs the model again).
struct QuantLab {
    WeightQuantParams quant;
    int64_t calibTokens = 0;
    std::vector<QuantMatrix> matrices;
    std::vector<ErrorAt> quantOnly;               // [matrix] Q(W) alone
    std::vector<std::vector<ReconCurve>> curves;  // [matrix][kReconMethods order], index = rank
};
QuantLab computeQuantLab(const Model& model, const Calibration& calib, const WeightQuantParams& quant,
                         const JobControl& job = {});

}  // namespace attnscope
