// KV-cache eviction lab (issue 6; reference sinks-and-kv-eviction.md Parts 2 and 3): which
// tokens each policy keeps per layer and head, and what that costs.
//
// Steps, so that parameter edits never re-run the model:
//   computeKvInputs   - the expensive part, once per trace: prompt attention statistics,
//                       the last prompt rows, policy scores that need q/k geometry, and the
//                       continuation's full-cache attention for the local metrics;
//   selectKv          - cheap: one policy's prefill decision (top-k, pooling, budgets);
//   kvLocalMetrics    - cheap: retained mass and output errors with hidden states fixed (§3.1);
//   kvEndToEnd        - re-runs the continuation with the compressed cache (§3.2);
//   simulateKvDecode  - decode mode: the policy evicts step by step on its own compressed
//                       cache (§3.1 "simulate step by step"), end-to-end metrics included.
// Torch-free and Qt-free: safe to include from widgets.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attnscope/attention_stats.h"
#include "attnscope/job.h"

namespace attnscope {

class Model;
class Trace;

enum class KvGranularity { QueryHead, KvHead, Layer };
enum class KvMode { Prefill, Decode };
const char* kvGranularityName(KvGranularity g);  // "query_head", "kv_head", "layer"
const char* kvModeName(KvMode m);                // "prefill", "decode"
KvMode parseKvMode(const std::string& s);        // throws Error(BadInput)

// One parameter of a policy, so that front ends can build their controls from the table.
struct KvParamSpec {
    std::string name;                  // CLI option without "--": window, kernel, pool, sink, ...
    double defaultValue = 0;           // -1 often means "derived from the budget" (see help)
    double minValue = -1, maxValue = 1e9;
    std::vector<std::string> choices;  // non-empty: an enumeration, the value is the index
    std::string help;                  // meaning, default and its source ([SRC]/[RECON])
    bool input = false;                // changing it needs computeKvInputs again
};

struct KvPolicyInfo {
    std::string name;    // registry key: streaming_llm, h2o, snapkv, ...
    std::string title;   // one line for menus
    std::string source;  // reference section and the code it follows
    bool decode = false;     // has a decode simulation (its phase is "every decode step")
    bool precision = false;  // ZipCache: "kept" = high-precision tokens, the rest quantized, none evicted
    std::vector<KvParamSpec> params;
};

// The registry, in menu order.
const std::vector<KvPolicyInfo>& kvPolicies();
const KvPolicyInfo& kvPolicy(const std::string& name);  // throws Error(BadInput) naming the known ones

struct KvParams {
    std::string policy = "streaming_llm";
    int64_t budget = 64;  // kept tokens per head, window/sink/recent included (PyramidKV: the average)
    KvMode mode = KvMode::Prefill;
    std::map<std::string, double> values;  // by KvParamSpec::name; absent = the policy's default

    // The value or the policy's default; throws Error(BadInput) for names the policy lacks.
    double get(const std::string& name) const;
    // Enumeration value as its choice name ("avg", "mean", ...).
    std::string choice(const std::string& name) const;
};

// Options of the expensive step. Use kvInputOptionsFor() to cover a set of parameter sets.
struct KvInputOptions {
    int64_t promptLength = 0;     // T_p: decisions see rows < T_p; rows [T_p, T) are the continuation (0 = T)
    int64_t windowRows = 64;      // last prompt rows kept whole (SnapKV/PyramidKV/TOVA/Scissorhands windows)
    double zipProbeRatio = 0.05;  // ZipCache: last 5% of prompt rows + 5% drawn from the rest [SRC]
    uint64_t zipSeed = 0;         // ... drawn with this seed
    int64_t expectedSink = 4;     // ExpectedAttention n_sink [SRC]
    int64_t expectedFuture = 512; // ExpectedAttention n_future_positions F [SRC]
    int64_t triOffsetMax = 65536; // TriAttention offsets 1, 2, 4, ... up to this [SRC]
    bool triMlr = true;           // TriAttention norm term (E|q| − |q̄|)|k|; false: disable_mlr, E|q||k|
};

// Opaque tensors of the metrics (continuation attention, values, W_O).
struct KvEvictionTensors;

// Everything selectKv and kvLocalMetrics read, computed once per trace. Row-major arrays.
struct KvInputs {
    int64_t T = 0, promptLength = 0;  // N = T tokens traced, the first T_p are the prompt
    int nLayers = 0, nHeads = 0, nKvHeads = 0, headDim = 0;
    int64_t slidingWindow = 0;
    std::vector<int32_t> ids;
    KvInputOptions options;         // what was computed
    std::vector<float> colSum;      // [L, H, T_p] Σ_{i<T_p} A_ij, raw (H2O)
    int64_t windowRows = 0;         // W
    std::vector<float> windowProbs; // [L, H, W, T_p] rows T_p−W .. T_p−1 of A
    std::vector<float> keyNorm;     // [L, Hkv, T] ||k_j|| post-RoPE (KNorm)
    std::vector<float> zipSum;      // [L, Hkv, T_p] Σ_{h∈g} Σ_{i∈probes} A_ij (ZipCache)
    std::vector<int64_t> zipProbes; // ZipCache probe rows, ascending
    std::vector<float> zipRows;     // [T_p] probe rows that see j (the exact count n_j)
    std::vector<float> triMean;     // [L, H, T_p] TriAttention score, mean over offsets (before z-scores)
    std::vector<float> triMax;      // [L, H, T_p] ... max over offsets
    std::vector<float> expectedLog; // [L, H, T_p] ExpectedAttention log softmax_j(z) per query head (log: the
                                    // probabilities underflow float; −inf for j < n_sink)
    std::vector<float> valueNorm;   // [L, Hkv, T_p] ||v_j||
    std::shared_ptr<const KvEvictionTensors> tensors;

    int64_t continuation() const { return T - promptLength; }
};

// Covers every parameter set (window rows, ZipCache/ExpectedAttention/TriAttention inputs).
KvInputOptions kvInputOptionsFor(const std::vector<KvParams>& params, int64_t promptLength);

// From a trace of prompt + continuation (the model's own Trace: q/k/v, pre-RoPE q/k and the
// residual stream kept) and its model (W_O, RoPE). Memory O(L·H·(W + C)·T).
KvInputs computeKvInputs(const Model& model, const Trace& trace, const KvInputOptions& options,
                         const JobControl& job = {});

// From raw post-RoPE q [T, H*d], k and v [T, Hkv*d] of a single layer stack (L = q.size() /
// (T·H·d)), for tests and benches: policies that need pre-RoPE geometry (TriAttention,
// ExpectedAttention) and the residual metrics are unavailable.
KvInputs computeKvInputs(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                         const AttentionShape& shape, int nLayers, const KvInputOptions& options);

// True when `params` need inputs that `inputs` lack (a longer window, other probe settings).
bool kvNeedsRecompute(const KvInputs& inputs, const KvParams& params);

inline constexpr int64_t kKvNever = std::numeric_limits<int64_t>::max();

struct KvSelection {
    std::string policy;
    KvGranularity granularity = KvGranularity::Layer;
    KvMode mode = KvMode::Prefill;
    bool precision = false;  // ZipCache: kept = high-precision tokens, the others low; nothing evicted
    int highBits = 16, lowBits = 16;  // ... their bits (16 = unquantized)
    int64_t T = 0, promptLength = 0;
    int nLayers = 0, nHeads = 0, nKvHeads = 0;
    int heads = 0;  // per layer at the granularity: 1, Hkv or H
    // Prefill: the prompt tokens kept by the decision. Decode: the cache after the last step.
    std::vector<std::vector<std::vector<int64_t>>> kept;  // [L][heads], sorted
    // Key j of (layer, head) is visible to query i only while i < until; kKvNever = always.
    std::vector<int64_t> until;     // [L, heads, T]
    std::vector<int64_t> layerBudget;  // [L] tokens kept per head in each layer (PyramidKV varies)

    int headOf(int queryHead) const;  // the granularity's head that query head reads
    int64_t visibleUntil(int layer, int head, int64_t key) const {
        return until[size_t((int64_t(layer) * heads + head) * T + key)];
    }
};

// The prefill decision (reference Part 2). Throws Error(BadInput) for bad parameters or
// when kvNeedsRecompute(inputs, params).
KvSelection selectKv(const KvInputs& inputs, const KvParams& params);

struct KvLayerMetrics {
    // Means over query heads and the continuation queries (hidden states of the full run).
    double retainedMass = 1;  // ρ
    double outputRelErr = 0;  // ||ô − o|| / ||o||
    double residErr = 0;      // ||W_O^(h) (ô − o)||
    double layerRelErr = 0;   // ||Σ_h W_O^(h) (ô_h − o_h)|| / ||h^l_q||
    std::vector<float> headRetainedMass, headOutputRelErr, headResidErr;  // [H] means over queries
};

struct KvLocalMetrics {
    int64_t queries = 0;  // continuation queries averaged over
    double retainedMass = 1, outputRelErr = 0;  // means over layers
    std::vector<KvLayerMetrics> layers;
};

// §3.1 with the selection's visibility (decode: each query's own step). ZipCache: the
// outputs with quantized keys and values, ρ = 1.
KvLocalMetrics kvLocalMetrics(const KvInputs& inputs, const KvSelection& selection);

// One (layer, query head, continuation query): o, ô and the evicted mean ō_ev (d floats each).
struct KvHeadOutputs {
    double rho = 1;
    std::vector<float> o, oHat, oEvicted;
};
KvHeadOutputs kvHeadOutputs(const KvInputs& inputs, const KvSelection& selection, int layer, int head,
                            int64_t query);

struct KvEndToEnd {
    int steps = 0;        // continuation queries compared
    double kl = 0;        // mean KL(P_full || P_comp) over them
    double top1 = 1;      // share of equal argmax
    double ppl = 0;       // exp(mean −log P_comp(x_{t+1})), t = T_p .. T−2
    double pplFull = 0;   // the same with the full cache
    std::vector<float> stepKl;
    std::vector<uint8_t> stepTop1;
};

// Prefill mode: the prompt with the full cache, then the continuation (teacher-forced) on the
// compressed cache: −∞ logits on evicted keys at their original positions (ZipCache:
// quantized prompt keys/values). The reference runs the same path without compression.
KvEndToEnd kvEndToEnd(const Model& model, const KvInputs& inputs, const KvSelection& selection,
                      const JobControl& job = {});

// Decode mode through the model: prefill decision, then one token at a time, every layer
// scoring the row of its own compressed cache (hidden states propagate). Fills `e2e` too.
KvSelection simulateKvDecode(const Model& model, const KvInputs& inputs, const KvParams& params,
                             KvEndToEnd* e2e = nullptr, const JobControl& job = {});

// Decode mode with the traced q/k fixed (no model, fast; what the first layer sees exactly).
// oracle = true scores on the full-cache rows instead (§3.1's "oracle" attention).
KvSelection simulateKvDecodeFixed(const KvInputs& inputs, const KvParams& params, bool oracle = false);

// ---- the lab's pipeline (the Inspector's KV calls; GUI and CLI alike) -----------------------

// The continuation the decisions are evaluated on (rows T_p .. T−1 of the traced run).
struct KvContinuation {
    int tokens = 32;              // greedy continuation length with the full cache, clipped to the context
    bool greedy = true;           // false: the prompt's last `tokens` tokens are the continuation
    std::vector<int32_t> given;   // non-empty: exactly these tokens (e.g. a file's text) follow the prompt
};

struct KvPrepared {
    int64_t promptLength = 0;
    std::vector<int32_t> ids;  // prompt + continuation
    std::shared_ptr<const KvInputs> inputs;
    std::string note;          // how the continuation was chosen, for a status line
};

// Prompt + continuation (generated with `model` when greedy), one traced run keeping q/k
// before RoPE and values, and inputs covering `cover`.
KvPrepared prepareKv(Model& model, const std::vector<int32_t>& prompt, const KvContinuation& continuation,
                     const std::vector<KvParams>& cover, const JobControl& job = {});

struct KvOutcome {
    KvSelection selection;
    KvLocalMetrics local;
    KvEndToEnd e2e;
};
// The decision, its local metrics and the end-to-end run (decode: simulated through the model).
KvOutcome evaluateKv(const Model& model, const KvInputs& inputs, const KvParams& params, const JobControl& job = {});
// The decision and local metrics only, no model (decode: traced q/k fixed): what an edit shows at once.
KvOutcome evaluateKvLocal(const KvInputs& inputs, const KvParams& params);

// One point of a budget sweep, end to end (the panel's and the session's sweeps are of prefill
// decisions; sessions store neither mode nor granularity).
struct KvSweepRow {
    std::string policy;
    int64_t budget = 0;
    double kl = 0, top1 = 1, ppl = 0, pplFull = 0, retainedMass = 1, outputRelErr = 0;
    KvMode mode = KvMode::Prefill;
    KvGranularity granularity = KvGranularity::Layer;
};
// Every parameter set in order, each in its own mode; a policy that cannot run on this model
// (Unsupported) is skipped and named in `skipped`.
std::vector<KvSweepRow> sweepKv(const Model& model, const KvInputs& inputs, const std::vector<KvParams>& params,
                                const JobControl& job = {}, std::vector<std::string>* skipped = nullptr);

// What inputs must cover for an interactive lab: `current`, every policy's defaults at its
// budget (switching policy then needs no recompute), and the pinned B when there is one.
std::vector<KvParams> kvCoverage(const KvParams& current, const KvParams* compare = nullptr);

// ---- options (the CLI's kv / kv-sweep verbs and the session's KV section) -------------------
class Options;
class Inspector;
// Policy parameters settable as options of the same name (--window, --gqa, ...), without "--".
const std::vector<std::string>& kvPolicyOptions();
// Parameters from --mode, the policy options and --param name=value,...; `strict`: an option the
// policy lacks is an error (else skipped: sweeps apply shared options where they exist).
KvParams kvParamsFrom(const Options& options, const std::string& policy, int64_t budget, bool strict);
std::vector<std::string> kvPolicyList(const std::string& spec);  // "a,b" or "all" (registry order)
std::vector<int64_t> kvBudgetList(const std::string& spec);      // "16,32,64"
// --continuation-file F (its text's tokens) or the full-cache greedy --continuation N (32).
KvContinuation kvContinuationFrom(const Options& options, const Inspector& inspector);
// Rows of `attnscope-cli kv-sweep --csv` output (columns found by their header names).
std::vector<KvSweepRow> readKvSweepCsv(const std::string& path);

}  // namespace attnscope
