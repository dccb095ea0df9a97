// The attention-variants lab (shared/reference/attention-variants-and-heads.md, sections A-D):
// one layer's traced q, k, v replayed through linear, sparse, normalisation and binary
// variants of softmax attention, each compared with the softmax the model really ran.
// Torch-free: inputs and outputs are row-major float64 arrays.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attnscope/options.h"
#include "attnscope/session.h"

namespace attnscope {

enum class VariantFamily { Reference, Linear, Sparse, Normalisation, Quantised };
const char* variantFamilyName(VariantFamily f);  // "reference", "linear", ...

struct VariantParamSpec {
    std::string name;  // snake_case, as in --param name=value
    double defaultValue = 0;
    double minValue = 0, maxValue = 1e9;
    std::vector<std::string> choices;  // non-empty: an enumeration, the value is the index
    std::string help;                  // meaning, default and where it comes from ([RECON] marks our choice)
};

struct VariantInfo {
    std::string name;   // registry key: softmax, elu_linear, window, sinkhorn, ...
    std::string title;  // one line for menus
    VariantFamily family = VariantFamily::Reference;
    std::string explanation;  // one paragraph: what it does and what its paper claims
    std::string source;       // the reference section and paper
    bool hasMap = true;       // a T x T weight matrix exists (every variant here has one)
    std::vector<VariantParamSpec> params;
};

// The registry, in menu order (grouped by family).
const std::vector<VariantInfo>& variantInfos();
// Error(BadInput) naming the variants when `name` is unknown.
const VariantInfo& variantInfo(const std::string& name);

// Parameter values by name; absent = the default.
using VariantParams = std::map<std::string, double>;
// "name=value" assignments (enumerations by choice name) over the defaults; unknown names and
// values outside [min, max] are Error(BadInput).
VariantParams variantParams(const VariantInfo& info, const std::vector<std::string>& assignments);
double variantParam(const VariantInfo& info, const VariantParams& params, const std::string& name);
std::string variantParamText(const VariantInfo& info, const VariantParams& params);  // "k=64 estimator=elu1"

// One query head's traced inputs (row-major float64).
struct VariantHeadInput {
    int64_t T = 0;
    int d = 0, dv = 0;
    std::vector<double> q, k;        // [T, d] after RoPE: what the model's scores used
    std::vector<double> qPre, kPre;  // [T, d] before RoPE (empty: the model has none; q, k are used)
    std::vector<double> v;           // [T, dv]
    double scale = 0;                // the model's logit scale (s in S = s·q·k)
    int window = 0;                  // the model's own sliding window (0: none); every variant keeps it
};

// What a variant computes for one head.
struct VariantHeadOutput {
    std::vector<double> o;           // [T, dv]
    std::vector<double> map;         // [T, T] weights W (masked entries exactly 0; may be signed)
    std::vector<double> rowEntropy;  // [T] nats, of p_ij = |W_ij| / Σ_j |W_ij| (0 for an empty row)
    std::vector<double> rowCurve;    // [T] the variant's own per-query quantity (see curveName)
    std::string curveName;           // "denominator", "temperature", "kept keys", ... ("" = none)
    std::string note;                // e.g. Hedgehog's fit and held-out cross-entropy
};
class Model;
class Trace;
// Query head `head` of `layer` from a trace of `model` that kept q, k, v (and pre-RoPE q, k when
// the model has RoPE), with the model's logit scale and sliding window.
VariantHeadInput variantHeadInput(const Model& model, const Trace& trace, int layer, int head);

VariantHeadOutput computeVariant(const std::string& name, const VariantParams& params, const VariantHeadInput& in);

// A variant's map and output against softmax's (computeVariant("softmax", ...)) for one head.
// Distributions are p_ij = |W_ij| / Σ_j |W_ij| (reference §0).
struct VariantHeadMetrics {
    int head = 0;
    double outputRelErr = 0;                                       // ‖O' − O‖_F / ‖O‖_F
    double rowRelErrMean = 0, rowRelErrP95 = 0, rowRelErrMax = 0;  // ‖o'_i − o_i‖ / (‖o_i‖ + 1e-12)
    double cosine = 0;                                             // cos(vec O', vec O)
    double rowKlMean = 0;  // mean_i KL(p_i ‖ P_i) in nats: finite for every variant here
    double rowTvMean = 0;  // mean_i ½ Σ_j |p_ij − P_ij|
    double entropy = 0, softmaxEntropy = 0, entropyGap = 0;  // mean row entropy (nats), variant − softmax
    // Ranks need the whole map: 0 (not computed) above kVariantRankTokens tokens.
    double effectiveRank = 0, softmaxEffectiveRank = 0;  // exp(entropy of σ/Σσ) of the map
    double stableRank = 0, softmaxStableRank = 0;        // ‖W‖_F² / σ_max²
    double keptMass = 1;                       // mean_i Σ_{j: W_ij ≠ 0} P_ij (sparse variants: 1 − δ)
    double negMass = 0;                        // mean_i Σ_j min(W_ij, 0)
    double sinkMass = 0, softmaxSinkMass = 0;  // mean_i p_i0: the first token's share (the primary sink)
    int64_t zeroRows = 0;                      // rows with no weight at all (ReLU features)
};
VariantHeadMetrics compareVariant(const VariantHeadOutput& softmax, const VariantHeadOutput& variant, int64_t T,
                                  int dv);

// ---- the lab: a layer's heads through chosen variants ---------------------------------------

inline constexpr int64_t kVariantRankTokens = 4096;  // the longest prompt whose maps get an SVD

// The part of a head's T x T map a view shows: queries [q0, q1) x keys [k0, k1) (q1, k1 = −1:
// to T), as at most rows x cols cells. A larger extent is pooled: each cell holds the entry of
// largest magnitude in its block (sign kept), like the explorer's max overview. The lab
// computes the maps block by block of query rows, so a long prompt's map is never held whole.
inline constexpr int kVariantTileCells = 1024;
struct VariantTile {
    int64_t q0 = 0, q1 = -1, k0 = 0, k1 = -1;
    int rows = kVariantTileCells, cols = kVariantTileCells;
    bool pooled = false;  // on a result: the cells are blocks of the extent, not single entries
};

struct VariantChoice {
    std::string name;
    VariantParams params;  // absent names: the defaults
};

struct VariantsRequest {
    int layer = 0;
    int head = -1;                        // -1: every query head of the layer
    std::vector<VariantChoice> variants;  // empty: every registered variant, defaults
    // End to end: re-run the model with the variant in place of `layer`'s attention (all its
    // heads, or `head`), or in every layer, and compare the next-token distributions.
    bool substitute = false;
    bool allLayers = false;
    int continuation = 0;      // greedy tokens after the prompt, beside the original's
    double heldOutFrom = 0.5;  // perplexity over positions ≥ this share of the prompt
    // The map pair to keep: this variant (one of `variants`, or any registered) on `mapHead`.
    std::string mapVariant;  // "" : none
    VariantParams mapParams;
    int mapHead = 0;
    VariantTile mapTile;
};

// The substituted run against the model's own, at every prompt position i (predicting i+1).
struct VariantEndToEnd {
    std::vector<double> kl;  // [T−1] KL(original ‖ substituted), nats
    double klMean = 0, klMax = 0;
    double top1 = 0;          // share of positions whose argmax agrees
    int64_t heldOutFrom = 0;  // first position of the perplexity window
    double ppl = 0, pplOriginal = 0;
    std::vector<int32_t> continuation, continuationOriginal;
};

struct VariantRun {
    std::string name;
    VariantParams params;                   // as given (defaults implied)
    std::string paramText;                  // every parameter with its value, "k=64 rope_mode=post"
    std::vector<VariantHeadMetrics> heads;  // per chosen head, in head order
    VariantHeadMetrics mean;                // mean over `heads` (head = −1)
    std::string note;                       // the first head's note (Hedgehog's fit, ...)
    bool hasEndToEnd = false;
    VariantEndToEnd endToEnd;
};

// One head's softmax beside one variant: the panel's map pair.
struct VariantHeadPair {
    int layer = 0, head = 0;
    int64_t T = 0;
    int dv = 0;
    std::string name;
    VariantParams params;
    // softmax.map and variant.map hold tile.rows x tile.cols cells of the extent `tile` (its
    // q1, k1 resolved); o, rowEntropy and rowCurve cover every query.
    VariantTile tile;
    VariantHeadOutput softmax, variant;
    VariantHeadMetrics metrics;  // over every query (no ranks)
};

struct VariantsResult {
    int layer = 0, head = -1;
    bool allLayers = false;
    int64_t tokens = 0;
    std::vector<VariantRun> variants;
    // One head's maps beside softmax's (the panel's map pair and the figures'); absent when
    // the request named no map.
    bool hasPair = false;
    VariantHeadPair pair;
};

// The options every front end names its choices by: --layer L, --variant-head H (-1 all),
// --variants a,b (all), --variant-params "[name.]key=value,..." (a bare key applies to every
// chosen variant that has it), --variant-substitute 0|1, --variant-all-layers 0|1,
// --variant-continuation N, --variant-held-out S; the map pair: --variant-map NAME ("none";
// default: the first chosen variant other than softmax) on --head H (the view's head; -1 → 0),
// with the parameters given to that variant.
VariantsRequest variantsRequestFrom(const Options& options);
// "--param" assignments "[name.]key=value" spread over the chosen variants (Error(BadInput) for
// a key no chosen variant has).
void assignVariantParams(std::vector<VariantChoice>& choices, const std::vector<std::string>& assignments);

// Session codec (JSON params, per-position KL as tensors). Torch-free (attnscope_io).
SessionSection encodeVariants(const VariantsResult& result);
VariantsResult decodeVariants(const SessionSection& section);

}  // namespace attnscope
