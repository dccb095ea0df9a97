// Attention sinks (reference sinks-and-kv-eviction.md Part 1): the primary sink, secondary
// sinks (Wong et al., arXiv 2512.22213), sink levels, and the MLP outputs that make them.
//
// Two steps, so that parameter edits never re-run the model:
//   computeSinkInputs  - the expensive part: exact O(T)-memory attention statistics of every
//                        layer and the hidden-state / MLP-output geometry, from a trace;
//   classifySinks      - pure and fast (milliseconds at 1K tokens): thresholds, the primary
//                        position, onset/offset, classes, levels.
// Torch-free and Qt-free: safe to include from widgets.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "attnscope/job.h"

namespace attnscope {

class Trace;

// Where the per-(layer, token) sink flag d^l_t comes from.
enum class SinkSource {
    Auto,       // Hidden when the inputs have hidden states, else Attention
    Hidden,     // |cos(h^l_t, h^l_p0)| > cosThreshold (Wong et al., official)
    Attention,  // [RECON] s^l_t > max(fallbackMinScore, fallbackMedianRatio * median_j s^l_j) (§1.4)
};

// How a lifetime becomes a class.
enum class SinkRule {
    Auto,      // Official when 4 < λ < L−15 can hold for some λ (L >= 21), else Relative
    Official,  // sink_labeling_machine: secondary if 4 < λ < L−15, else primary if λ >= L−15, else noise
    Relative,  // [RECON] primary if λ >= relativeCut·(l_off − l_on) and l_start <= l_on + relativeStartSlack;
               // else secondary if λ > noiseMaxLifetime; else noise
};

enum class SinkClass { None, Primary, Secondary, Noise };
const char* sinkClassName(SinkClass c);  // "none", "primary", "secondary", "noise"
const char* sinkSourceName(SinkSource s);
const char* sinkRuleName(SinkRule r);
SinkSource parseSinkSource(const std::string& s);  // throws Error(BadInput) naming the known ones
SinkRule parseSinkRule(const std::string& s);

// Every threshold of the analysis. Defaults are the sources' (§1.1–§1.4).
struct SinkParams {
    double epsilon = 0.3;        // Gu et al.: head h counts for token t when α^{l,h}_t > ε
    double cosThreshold = 0.9;   // Wong et al.: |cos(h^l_t, h^l_p0)| > 0.9
    int64_t minQueryPos = 0;     // [RECON] rows i < P left out of α; an input: see needsRecompute()
    std::vector<int64_t> bosCandidates = {0, 1};  // p0 = the candidate of largest mean ||h|| ({0,1,2} with a chat template)
    SinkSource source = SinkSource::Auto;
    SinkRule rule = SinkRule::Auto;
    bool sinkClipper = true;     // official enable_sink_clipper: analyse [l_on, l_off) only, else all layers
    int noiseMaxLifetime = 4;    // λ <= 4: noise
    int primaryLayerMargin = 15; // λ >= L − 15: primary (official)
    double relativeCut = 0.6;    // [RECON] small models: primary if λ >= 0.6·(l_off − l_on) ...
    int relativeStartSlack = 2;  // ... and l_start <= l_on + 2
    double massiveMin = 100;            // Sun et al.: max_c |h^l_{t,c}| > 100 ...
    double massiveMedianRatio = 1000;   // ... and > 1000 × median_{t,c} |h^l|
    double fallbackMinScore = 0.05;     // [RECON] attention-only fallback thresholds
    double fallbackMedianRatio = 20;
};

// What classifySinks needs, computed once per trace. Arrays are row-major; index
// (l * T + t), or ((r * L + l) * T + t) for per-reference arrays.
struct SinkInputs {
    int64_t T = 0;
    int nLayers = 0;
    int nHeads = 0;
    int64_t minQueryPos = 0;
    std::vector<int32_t> ids;               // [T]
    std::vector<float> headAlpha;           // [L, H, T] causal mean attention α^{l,h}_t (§1.1)
    std::vector<float> sinkScore;           // [L, T] s^l_t = mean_h α^{l,h}_t
    std::vector<float> scoreMedian;         // [L] median_t s^l_t (attention-only fallback)
    // Hidden states h^l = residual stream leaving layer l (pre final norm). Empty without them.
    std::vector<int64_t> references;        // [R] positions the cosines are taken against (BOS candidates)
    std::vector<float> hiddenNorm;          // [L, T] ||h^l_t||
    std::vector<float> hiddenMaxAbs;        // [L, T] max_c |h^l_{t,c}|
    std::vector<float> hiddenMedianAbs;     // [L] median_{t,c} |h^l_{t,c}|
    std::vector<float> hiddenCos;           // [R, L, T] cos(h^l_t, h^l_{references[r]})
    // MLP outputs y^l (down projection). Empty without them.
    std::vector<float> mlpNorm;             // [L, T]
    std::vector<float> mlpCos;              // [R, L, T] cos(y^l_t, y^l_{references[r]})

    bool hasHidden() const { return !hiddenNorm.empty(); }
    bool hasMlp() const { return !mlpNorm.empty(); }
};

struct SinkInputOptions {
    std::vector<int64_t> references = {0, 1, 2, 3};  // candidate BOS positions to prepare cosines for
    JobControl job;                                   // stop checked between layers; fraction done
};

// Statistics from the trace. Hidden/MLP parts are left empty when the trace policy dropped
// resid_out / mlp_out. Memory: O(L·H·T) plus one layer's [T, D] at a time.
SinkInputs computeSinkInputs(const Trace& trace, int64_t minQueryPos, const SinkInputOptions& options = {});

// Geometry of one layer's hidden states h [T, D] (or MLP outputs) against the reference
// positions: norms, max |h|, median |h| and cosines. Exposed so that tests and other
// front ends can build SinkInputs from arrays. `values` is used as scratch (reordered).
struct LayerGeometry {
    std::vector<float> norm, maxAbs;  // [T]
    float medianAbs = 0;
    std::vector<float> cos;           // [R, T]
};
LayerGeometry layerGeometry(std::vector<float>& values, int64_t T, int64_t D,
                            const std::vector<int64_t>& references);

// True when the parameters need inputs that `inputs` lacks (another minQueryPos, a BOS
// candidate without prepared cosines): call computeSinkInputs again.
bool needsRecompute(const SinkInputs& inputs, const SinkParams& params);

struct SinkLayer {
    std::vector<float> sinkScore;        // [T] s^l_t
    std::vector<float> fracHeads;        // [T] f^l_t = share of heads with α > ε
    std::vector<float> cosToPrimary;     // [T] signed cos(h^l_t, h^l_p0); the flag uses |cos| (empty w/o hidden)
    std::vector<float> hiddenNorm;       // [T] ||h^l_t||
    std::vector<uint8_t> massive;        // [T] massive-activation flag (Sun et al.)
    std::vector<float> mlpCosToPrimary;  // [T] cos(y^l_t, y^l_p0) (empty w/o MLP outputs)
    std::vector<float> mlpNorm;          // [T] ||y^l_t||
    std::vector<uint8_t> flagged;        // [T] d^l_t inside the analysed range (the per-layer support set)
    float primaryStrength = 0;           // s^l_p0
    float weakening = 0;                 // w^l = 1 − s^l_p0 / max_l' s^l'_p0
    int secondaryCreated = 0;            // secondary sinks whose creation layer is l
};

struct SinkToken {
    int64_t token = 0;       // position
    int32_t id = 0;          // token id
    SinkClass cls = SinkClass::None;
    std::vector<int> layers; // layers(t): flagged layers in [l_on, l_off)
    int lifetime = 0;        // λ = |layers(t)| (a count, not a run)
    int creationLayer = -1;  // layers(t)[0]
    float meanScore = 0;     // mean over layers(t) of s^l_t
    int maxRun = 0;          // [RECON] longest contiguous run in layers(t)
    float mlpNormAtCreation = 0;  // ρ_t = ||y^{l_start}_t|| (0 w/o MLP outputs)
    float mlpCosAtCreation = 0;   // cos(y^{l_start}_t, y^{l_start}_p0)
};

struct SinkLevel {
    int creationLayer = 0;
    int lifetime = 0;
    int count = 0;
    float meanScore = 0;     // mean of the members' meanScore
    SinkClass cls = SinkClass::None;
    std::vector<int64_t> tokens;
};

struct LinearFit {
    double slope = 0, intercept = 0, r = 0;  // y ≈ slope·x + intercept, Pearson r
    int n = 0;
    bool lineDefined = false;  // n >= 2 and x varies (else slope 0 through the mean)
    bool rDefined = false;     // ... and y varies too (else r is reported as 0)
};
// Least squares and Pearson r. Torch-free (built into attnscope_io, so widgets may call it).
LinearFit fitLine(const std::vector<double>& x, const std::vector<double>& y);

struct SinkResult {
    int64_t T = 0;
    int nLayers = 0;
    SinkSource source = SinkSource::Hidden;  // resolved (never Auto)
    SinkRule rule = SinkRule::Official;      // resolved (never Auto)
    int64_t primary = 0;                     // p0
    int onset = 0, offset = 0;               // analysed range [l_on, l_off)
    std::vector<float> primaryNorm;          // [L] b^l = ||h^l_p0||
    std::vector<SinkLayer> layers;           // [L]
    std::vector<SinkToken> sinks;            // tokens p0 and t > p0 with λ >= 1, by position
    std::vector<SinkLevel> levels;           // distinct (creation layer, lifetime), ascending
    LinearFit scoreVsMlpNorm;                // over primary + secondary sinks with MLP outputs: s vs ρ
    LinearFit lifetimeVsMlpNorm;             // λ vs ρ
    double weakeningVsCreations = 0;         // Pearson r of w^l and secondary creations per layer
    int count(SinkClass c) const;
};

// Pure: no trace, no torch. Throws Error(BadInput) when needsRecompute(inputs, params).
SinkResult classifySinks(const SinkInputs& inputs, const SinkParams& params);

// The positions the KV and quantization maps mark as sinks: primary sinks, then secondary ones,
// each ascending (every front end marks the same tokens).
std::vector<int64_t> sinkMarks(const SinkResult& result);

class Options;
// --epsilon --cos-threshold --min-query-pos --rule auto|official|relative
// --source auto|hidden|attention --bos 0,1 (the sinks verb, sessions and figures).
SinkParams sinkParamsFrom(const Options& options);  // throws Error(BadInput)

}  // namespace attnscope
