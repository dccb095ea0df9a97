// Interventions (reference attention-variants-and-heads.md §F): cause-and-effect tests on the
// running model. Every intervention re-runs the model with one change and all later computation
// live, and is compared with the same run unchanged:
//   runIntervention   - ablate a head (zero, the mean over positions, or scaled), a layer's
//                       attention or MLP output at chosen tokens, tokens' keys and values (hidden
//                       from later queries), or the sink (BOS) token's; effect: next-token KL and
//                       the target's logit change at every position, and the sinks analysis of both
//                       runs (§F.1, F.3);
//   sinkCausalTest    - the secondary-sinks claim (§F.2): ablate the MLP output that creates a
//                       sink at its creation layer, with controls and a scale sweep;
//   activationPatching - clean → corrupted patching of residuals, MLP outputs or heads with the
//                       normalised logit difference (§F.4);
//   logitLens         - the final norm and unembedding applied to every layer's residual (§F.5).
// Torch-free and Qt-free.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attnscope/analyses/sinks.h"
#include "attnscope/job.h"

namespace attnscope {

class Model;

// ---- ablation -------------------------------------------------------------------------------

struct AblationParams {
    std::string what = "head";    // none | head | attn | mlp | kv | sink
    int layer = 0;                // the layer ablated (kv, sink: the first one)
    std::vector<int> heads;       // head: the heads (empty = every head of the layer)
    std::string mode = "mean";    // head, attn, mlp: zero | mean (over the prompt's positions but BOS) | scale
    double scale = 0.0;           // mode scale: y ← scale · y (1 reproduces the run)
    std::vector<int64_t> tokens;  // head, attn, mlp: positions changed (empty = every one); kv: keys hidden
    bool laterLayers = true;      // kv, sink: hidden in `layer` and every later layer (false: `layer` only)
    int32_t target = -1;          // token id whose logit change is reported (-1: each position's own top-1)
};

struct InterventionResult {
    AblationParams params;
    int64_t T = 0;
    int nLayers = 0, nHeads = 0;
    std::vector<float> kl;                   // [T] KL(p_run ‖ p_ablated) of the next token (nats)
    std::vector<float> logitDelta;           // [T] ablated − run logit of the target
    std::vector<float> logprobDelta;         // [T] the same in log-probability
    std::vector<int32_t> top1, ablatedTop1;  // [T]
    double meanKl = 0, maxKl = 0, top1Agreement = 1;
    // The sinks analysis of both runs (default SinkParams): tracked positions (the sinks of
    // either run and the ablated tokens), each one's sink score s^l_t per layer and lifetime.
    std::vector<int64_t> tracked;
    std::vector<float> scoreBefore, scoreAfter;          // [tracked, L]
    std::vector<int32_t> lifetimeBefore, lifetimeAfter;  // [tracked] (0: not a sink)
    std::string note;
    std::map<int32_t, std::string> pieces;  // the text of the top-1 token ids (empty without a tokenizer)
};

// Throws Error(BadInput) for a bad layer, head, token or mode.
InterventionResult runIntervention(Model& model, const std::vector<int32_t>& ids, const AblationParams& params,
                                   const SinkParams& sinkParams = {}, const JobControl& job = {});

// ---- the causal sink test --------------------------------------------------------------------

struct SinkTestParams {
    int64_t token = -1;         // the sink tested (-1: the longest-lived secondary sink, else the primary)
    std::string mode = "zero";  // the creation layer's MLP output at the token: zero | mean
    std::vector<double> scales = {0, 0.5, 1, 1.5};  // the sweep y ← c·y at the creation layer
    SinkParams sinks;
};

struct SinkTestRow {
    std::string label;  // "creation layer", "control: layer 3", "control: token 12", "scale 0.5"
    int64_t token = 0;
    int layer = 0;
    std::string mode;  // zero | mean | scale
    double scale = 0;
    std::vector<float> scoreBefore, scoreAfter;  // [L] s^l of the token
    int lifetimeBefore = 0, lifetimeAfter = 0;
    float mlpNorm = 0;     // ||y^layer_token|| in the run
    float cosPrimary = 0;  // cos(y^layer_token, h^layer_primary)
    double meanKl = 0;     // next-token KL over the prompt
};

struct SinkTestResult {
    int64_t token = -1;  // the sink tested
    int creationLayer = -1;
    int64_t primary = 0;  // the primary sink's position
    std::vector<SinkTestRow> rows;
    std::string note;
};

// Throws Error(BadInput) when the prompt has no sink to test or the token is not one.
SinkTestResult sinkCausalTest(Model& model, const std::vector<int32_t>& ids, const SinkTestParams& params,
                              const JobControl& job = {});

// ---- activation patching ---------------------------------------------------------------------

struct PatchParams {
    std::vector<int32_t> clean, corrupt;  // equal lengths
    int32_t answer = -1, wrong = -1;      // LD = logit(answer) − logit(wrong) at the last position
    std::string what = "resid";           // resid | mlp | head
};

struct PatchResult {
    std::string what;
    int nLayers = 0, nHeads = 0;
    int64_t T = 0;
    double ldClean = 0, ldCorrupt = 0;
    bool undefined = false;         // |LD_clean − LD_corrupt| < 1e-3: the normalised map is NaN
    std::vector<float> normalized;  // resid, mlp: [L, T] (position t of layer l); head: [L, H] (every position)
    std::vector<float> delta;       // LD_patched − LD_corrupt, same layout
    std::string note;
};

// Denoising: clean activations patched into the corrupted run. Throws Error(BadInput) for
// prompts of different lengths or a bad token.
PatchResult activationPatching(Model& model, const PatchParams& params, const JobControl& job = {});

// ---- logit lens ------------------------------------------------------------------------------

struct LogitLensParams {
    int32_t target = -1;  // a token whose probability and rank are followed (-1: none)
    int topK = 5;
};

struct LogitLens {
    int nLayers = 0, topK = 0;
    int64_t T = 0;
    int32_t target = -1;
    std::vector<int32_t> top;        // [L, T, K] token ids, most probable first
    std::vector<float> topProb;      // [L, T, K]
    std::vector<float> klToFinal;    // [L, T] KL(p_final ‖ p^l)
    std::vector<int32_t> finalRank;  // [L, T] rank of the model's top-1 token under p^l (0 = top)
    std::vector<float> targetProb;   // [L, T] (empty without a target)
    std::vector<int32_t> targetRank;
    std::map<int32_t, std::string> pieces;  // the text of every token id above (empty without a tokenizer)
};

LogitLens logitLens(Model& model, const std::vector<int32_t>& ids, const LogitLensParams& params = {},
                    const JobControl& job = {});

}  // namespace attnscope

// ---- session sections (interventions_codec.cpp, torch-free) ----------------------------------

#include "attnscope/session.h"

namespace attnscope {

// The "intervene" section holds one ablation or one causal sink test.
struct InterventionSection {
    std::string kind = "ablation";  // ablation | sink_test
    InterventionResult ablation;
    SinkTestResult sinkTest;
};
SessionSection encodeIntervention(const InterventionSection& s);
InterventionSection decodeIntervention(const SessionSection& s);
SessionSection encodePatch(const PatchResult& r);
PatchResult decodePatch(const SessionSection& s);
SessionSection encodeLogitLens(const LogitLens& l);
LogitLens decodeLogitLens(const SessionSection& s);

}  // namespace attnscope
