// A^3 (Wong, Zhang et al., "A^3: an Analytical Low-Rank Approximation Framework for Attention",
// arXiv 2505.12942): each layer's three functional components, each reduced inside by the
// closed form that minimises that component's own error, beside a plain baseline.
//   QK  - score error Σ_ij (q_i Δ k_jᵀ)² ; per KV group, queries stacked (GQA) [§4.1]
//   OV  - head-output error ‖O_h (W_vo − Ŵ_vo)‖² ; GQA shares V̂: its basis from the group-mean
//         statistics [§4.1, approximate], each head's W_o refit on it by least squares [RECON]
//   MLP - output error of W_down on the kept intermediate channels (CUR-style selection
//         ‖h_:,i‖·‖W_down[:, i]‖, optional least-squares refit) [§4.1, PAPER via audit]
// Definitions: shared/reference/weibull-and-quantization.md §4.1, §5 and
// attention-variants-and-heads.md §G. Everything is computed in the head's own coordinates
// from second moments of the captured q, k, head outputs and MLP activations (float64), so a
// rank edit costs no model pass. Plain structs; no torch, no Qt.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attnscope/job.h"
#include "attnscope/model_shape.h"
#include "attnscope/options.h"
#include "attnscope/session.h"

namespace attnscope {

class Model;
class Trace;

enum class A3Component { QK, OV, MLP };
inline constexpr int kA3Components = 3;

// How QK treats rotary position embeddings [RECON: the paper's RoPE handling was not available].
enum class A3Rope {
    PreRope,         // the §4.1 closed form on pre-RoPE q/k: scores without the rotation
    FrequencyPairs,  // keep whole rotary frequency pairs by E|q̃_f|²·E|k̃_f|² (§G.1): RoPE stays exact
    NoRotaryCut,     // cut only the non-rotary dimensions (partial rotary); full-rotary heads keep d
};

struct A3Params {
    A3Rope rope = A3Rope::FrequencyPairs;  // ignored (the closed form is exact) for models without RoPE
    bool refit = true;                     // MLP: least-squares refit of W_down on the kept channels
    double damping = 1e-8;                 // added to the moments' diagonal, relative to its mean
};

// What a front end asks the Inspector for (Inspector::a3).
struct A3Request {
    // The panel's sweep: finer where the error falls fastest; every rank edit looks one up.
    std::vector<double> fractions = {0.0625, 0.125, 0.1875, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0};
    A3Params params;
    double holdout = 0.5;   // share of the prompt's rows held out (without a calibration file)
    std::string calibFile;  // text to calibrate on (windows of kCalibrationWindow); the whole prompt is held out
};
// The session and panel options: --a3-ranks F,F,..., --a3-rope NAME, --a3-refit 0|1,
// --a3-holdout S, --a3-calib-file PATH. Throws Error(BadInput).
A3Request a3RequestFrom(const Options& options);

// Second moments of the calibration tokens (opaque: torch tensors inside core).
struct A3Stats;

// Accumulates A3Stats over calibration rows: each add() reads rows [row0, row1) of a trace that
// kept pre-RoPE q/k, values (head outputs) and MLP inputs (TracePolicy defaults).
class A3Accumulator {
public:
    explicit A3Accumulator(const Model& model);
    ~A3Accumulator();
    void add(const Trace& trace, int64_t row0, int64_t row1, const JobControl& job = {});
    int64_t tokens() const;
    std::shared_ptr<const A3Stats> finish();  // throws Error(BadInput) without tokens

private:
    struct Impl;
    std::unique_ptr<Impl> m;
};

// One rank of one component of one layer. Errors are relative (÷ the unreduced quantity).
struct A3Point {
    int r = 0;                  // kept dimensions: per head (QK, OV) or MLP channels
    double fraction = 0;        // r / full
    double objective = 0;       // the component's objective on the calibration rows (A^3)
    double baselineObjective = 0;
    double heldOut = 0;         // on the held-out rows: QK score error, OV output error, MLP output error
    double baselineHeldOut = 0;
    double rowKl = 0;           // QK: mean over held-out rows and heads of KL(softmax(S) ‖ softmax(Ŝ)), nats
    double baselineRowKl = 0;
    double weightErr = 0;       // the fused map's error: W_qᵀW_k, W_vᵀW_oᵀ per head, W_down
    double baselineWeightErr = 0;
    int64_t paramsSaved = 0;    // weights removed from the layer at this rank
};

struct A3Layer {
    std::vector<A3Point> qk, ov, mlp;  // by rank fraction
    const std::vector<A3Point>& of(A3Component c) const { return c == A3Component::QK ? qk : c == A3Component::OV ? ov : mlp; }
};

struct A3Result : ModelShape {  // the model's dimensions
    A3Params params;
    std::vector<double> fractions;  // the rank fractions of every point list
    bool rope = false;      // the model rotates q/k
    int rotaryDim = 0;
    std::string qkMode;     // the QK choice shown, in words (e.g. "pre-RoPE scores (no rotation)")
    int64_t calibTokens = 0, heldOutRows = 0;
    std::vector<A3Layer> layers;
};

// Every layer x component at every fraction in (0, 1], on the held-out rows [row0, T) of
// `heldOut` (queries; keys are every causal position). Ranks round to the nearest dimension
// a component allows (even for frequency pairs), at least 1.
A3Result computeA3(const Model& model, const A3Stats& stats, const Trace& heldOut, int64_t row0,
                   const std::vector<double>& fractions, const A3Params& params = {}, const JobControl& job = {});

// ---- end to end: the cuts applied to the model ------------------------------------------------

// The kept dimension per layer and component (A3Component order); a component's full
// dimension leaves it whole.
struct A3Profile {
    std::string name;  // how it was chosen, in words
    std::vector<std::array<int, kA3Components>> ranks;
};
// Every layer at the sweep's point for `fraction` (Error(BadInput) when the sweep lacks it).
A3Profile a3UniformProfile(const A3Result& r, double fraction);
// Per layer and component the smallest swept rank whose held-out error is ≤ ε (full if none).
A3Profile a3ThresholdProfile(const A3Result& r, double epsilon);
// One swept fraction per layer, for all three components.
A3Profile a3LayerProfile(const A3Result& r, const std::vector<double>& fractionPerLayer);
// The profile front ends name: --a3-apply F (uniform) | --a3-apply-epsilon E | --a3-apply-layers
// F,F,... (one per layer), and --a3-apply-components qk,ov,mlp (the others stay whole; all by
// default). Throws Error(BadInput).
A3Profile a3ProfileFrom(const A3Result& r, const Options& options);

struct A3EndToEnd {
    A3Profile profile;
    // Next-token perplexity of the reduced and the full model, mean KL(full ‖ reduced) and
    // top-1 agreement over the held-out positions.
    double ppl = 0, pplFull = 0, kl = 0, top1 = 0;
    int64_t tokens = 0;
    std::vector<int32_t> continuation, continuationFull;  // greedy, after the whole prompt
    int64_t kvBytesFull = 0, kvBytesReduced = 0;          // per token, 2-byte cache, by the formula
    // Per layer, measured on the applied maps: the key and the value dimensions per KV head the
    // reduced model's scores and outputs depend on (numerical rank, max over KV groups).
    std::vector<std::array<int, 2>> cacheDims;
    int64_t paramsSaved = 0;
    std::string note;  // what could not be applied, and why
};

// Rank edits cost per token at context T (FLOPs: 2 per multiply-add): the projections whose
// rows or columns the cut removes, and QK's scores / OV's weighted sum over T keys.
int64_t a3FlopsSavedPerToken(const A3Result& r, size_t fractionIndex, int64_t T);
// The same for one point of one layer: 2·paramsSaved, plus 2·H·(d − r)·T for QK and OV.
int64_t a3PointFlopsSaved(const A3Result& r, A3Component c, const A3Point& p, int64_t T);

// KV-cache bytes per token: 2·L·H_kv·d·b in full, L·H_kv·(r_qk + r_vo)·b reduced (§G.4).
int64_t a3KvBytesPerToken(int nLayers, int nKvHeads, int rQk, int rVo, int bytesPerElement);
// The kept dimension of a fraction for a component (what computeA3 uses).
int a3Rank(const A3Result& result, A3Component component, double fraction);

// Session section "a3" (docs/session-format.md): params (dimensions, choices, fractions) and
// tensors points [L, 3, F, 9] (fraction, objective, baseline objective, held-out, baseline
// held-out, row KL, baseline row KL, weight error, baseline weight error), r [L, 3, F] and
// params_saved [L, 3, F]. Decode throws Error(BadInput) for anything inconsistent.
SessionSection encodeA3(const A3Result& r);
A3Result decodeA3(const SessionSection& s);

const char* a3ComponentName(A3Component c);  // "qk", "ov", "mlp"
A3Component parseA3Component(const std::string& name);  // throws Error(BadInput)
const char* a3RopeName(A3Rope r);            // "pre_rope", "freq_pairs", "no_rotary_cut"
A3Rope parseA3Rope(const std::string& name);  // throws Error(BadInput)

}  // namespace attnscope
