// The Inspector: AttnScope's one face of the core (RenderDoc's IReplayController is the model).
// It owns the open model and the traces of the current prompt, and every analysis is reached
// through it, so the GUI's worker, the CLI verbs and `attnscope-cli session` compute each
// analysis one way. Use it from one thread (the GUI's worker, the CLI's main thread).
//
// - Progress and cancellation: every long call takes a JobControl (job.h).
// - Errors: every call throws attnscope::Error only; torch's exceptions (out of memory above
//   all) are translated here, once.
// - Traces: the prompt is traced once per trace policy; a call that needs more tensors than
//   the current trace keeps re-traces once with the union and every later call shares it.
// Torch-free and Qt-free header.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attnscope/analyses/a3.h"
#include "attnscope/analyses/head_scores.h"
#include "attnscope/analyses/kv.h"
#include "attnscope/analyses/quant.h"
#include "attnscope/analyses/sinks.h"
#include "attnscope/analyses/variants.h"
#include "attnscope/analyses/weibull.h"
#include "attnscope/analyses/weibull_series.h"
#include "attnscope/job.h"
#include "attnscope/model.h"
#include "attnscope/trace.h"
#include "attnscope/views.h"

namespace attnscope {

// What a prompt run tells the front ends.
struct PromptInfo {
    TokenStrip tokens;
    int64_t length = 0;
    int nLayers = 0;
    int nHeads = 0;
    int64_t traceBytes = 0;
};

// The trace the attention views, head scores and sinks read: residual stream and MLP outputs
// (sinks), q/k after RoPE (tiles, statistics); no values, no pre-RoPE q/k, last logits only.
TracePolicy viewTracePolicy();

class Inspector {
public:
    Inspector();
    ~Inspector();
    Inspector(const Inspector&) = delete;
    Inspector& operator=(const Inspector&) = delete;

    // ---- the model ------------------------------------------------------------------------
    // Opens a model, replacing the current one (freed first: two large models may not fit).
    const ModelInfo& open(const OpenOptions& options);
    void adopt(std::unique_ptr<Model> model);  // a model opened elsewhere (random models, tests)
    void close();
    bool hasModel() const;
    const ModelInfo& info() const;  // throws Error(BadInput) "Open a model first"
    Model& model();
    const Model& model() const;
    std::vector<int32_t> tokenize(const std::string& text, bool addSpecial) const;
    std::string piece(int32_t id) const;  // "#id" without a tokenizer
    TokenStrip tokenStrip(const std::vector<int32_t>& ids) const;
    std::string decode(const std::vector<int32_t>& ids) const;  // the text; "" without a tokenizer
    // Continues `ids` with a KV cache (greedy unless `sampling` says otherwise); independent of
    // the prompt and its traces.
    Generation generate(const std::vector<int32_t>& ids, int maxNewTokens, bool stopAtEos,
                        const SamplingOptions& sampling = {}, const JobControl& job = {});

    // ---- the prompt -----------------------------------------------------------------------
    // Traces `ids` with `policy` (the views' unless told otherwise: the CLI's raw-trace verbs
    // keep less or more). The previous prompt and its traces stay until the new trace exists, so
    // a failed or cancelled run leaves them usable.
    PromptInfo setPrompt(std::vector<int32_t> ids, const JobControl& job = {},
                         const TracePolicy& policy = viewTracePolicy());
    // The prompt without tracing it now: the first analysis that needs a trace makes it (the
    // CLI's KV and quantization verbs never need the view trace).
    void setPromptIds(std::vector<int32_t> ids);
    bool hasPrompt() const;
    const std::vector<int32_t>& prompt() const;  // throws Error(BadInput) "Run a prompt first"
    // The prompt's trace keeping at least what `needs` keeps (re-traced once with the union
    // when the current one lacks something).
    const Trace& trace(const TracePolicy& needs, const JobControl& job = {});
    const Trace& trace() const;  // the current one; throws Error(BadInput) when there is none

    // ---- attention views (exact tiles, pooled overviews) ----------------------------------
    Matrix2D attentionTile(int layer, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1) const;
    Matrix2D overview(int layer, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1, int rows, int cols,
                      Pool pool) const;
    // The attention `token` pays to every key (asKey false) or receives from every query.
    std::vector<float> tokenAttention(int layer, int head, int64_t token, bool asKey) const;

    // ---- head roles -----------------------------------------------------------------------
    // The detectors of analyses/head_scores.h for one layer (the GUI fills its grid layer by
    // layer) or every layer. What the layers share (the repeated sequence's trace, the OV
    // product, the options' positions) is made once per prompt and parameters.
    HeadLayerScores headScores(int layer, const HeadDetectorParams& params, const JobControl& job = {});
    HeadScores headScores(const HeadDetectorParams& params, const JobControl& job = {});

    // ---- attention sinks ------------------------------------------------------------------
    // The statistics behind a classification for params.minQueryPos, with cosines against
    // every BOS candidate of the params and positions 0-3 (so candidate edits need none);
    // cached for the prompt.
    std::shared_ptr<const SinkInputs> sinkInputs(const SinkParams& params, const JobControl& job = {});
    SinkResult sinks(const SinkParams& params, const JobControl& job = {});
    // Primary and secondary sink positions at `params` (the KV and quantization maps mark
    // them); empty when the prompt is too short to classify.
    std::vector<int64_t> sinkPositions(const SinkParams& params = {}, const JobControl& job = {});

    // ---- KV-cache eviction ----------------------------------------------------------------
    // The prompt + its continuation traced once with inputs covering `cover`.
    KvPrepared prepareKv(const KvContinuation& continuation, const std::vector<KvParams>& cover,
                         const JobControl& job = {});
    // Decision, local metrics and the end-to-end run (decode: simulated through the model).
    KvOutcome evaluateKv(const KvInputs& inputs, const KvParams& params, const JobControl& job = {});
    // Prefill decisions end to end, in order; a policy that cannot run on this model is skipped
    // and named in `skipped`.
    std::vector<KvSweepRow> sweepKv(const KvInputs& inputs, const std::vector<KvParams>& params,
                                    const JobControl& job = {}, std::vector<std::string>* skipped = nullptr);

    // ---- quantization ---------------------------------------------------------------------
    // R of every linear layer's input over the prompt (windows of kCalibrationWindow), cached.
    std::shared_ptr<const Calibration> calibration(const JobControl& job = {});
    QuantLab quantLab(const WeightQuantParams& quant, const JobControl& job = {});
    QuantModelResult evaluateQuant(const WeightQuantParams& quant, ReconMethod method, int rank,
                                   const JobControl& job = {});
    AttnQuantResult kvQuant(const KvQuantParams& params, const JobControl& job = {});
    AttnQuantResult scoreQuant(const ScoreQuantParams& params, const JobControl& job = {});
    Matrix2D kvQuantErrorMap(int layer, int head, const KvQuantParams& params, const JobControl& job = {});
    Matrix2D scoreQuantErrorMap(int layer, int head, const ScoreQuantParams& params, const JobControl& job = {});

    // ---- Weibull fits of the weights --------------------------------------------------------
    std::vector<WeibullMatrixFit> weibullFits(const WeibullParams& params, const JobControl& job = {});
    WeibullPlot weibullPlot(const std::string& matrix, const WeibullParams& params);
    // Every checkpoint of `directory` ("" = the open model's directory and its series).
    std::vector<WeibullSeriesPoint> weibullSeries(const std::string& directory, const WeibullParams& params,
                                                  const JobControl& job = {});

    // ---- A^3 low-rank attention --------------------------------------------------------------
    // Calibration on `calibration` windows (each traced alone) with the whole prompt held out;
    // without windows, on the prompt's first (1 − holdout) rows with the rest held out. The
    // moments are cached for the prompt and calibration, so rank edits only re-score.
    A3Result a3(const std::vector<double>& fractions, const A3Params& params, double holdout = 0.5,
                const std::vector<std::vector<int32_t>>& calibration = {}, const JobControl& job = {});
    // The same for a front end's request: its calibration file tokenized (with BOS) and split
    // into windows of kCalibrationWindow (at most the model's context).
    A3Result a3(const A3Request& request, const JobControl& job = {});
    // `profile` (from a3(request)'s sweep: a3UniformProfile, ...) applied to a copy of the model:
    // perplexity, KL and top-1 against the full model on the held-out positions (all of them
    // with a calibration file), and a greedy continuation of `continuation` tokens from each.
    A3EndToEnd a3EndToEnd(const A3Request& request, const A3Profile& profile, int continuation = 16,
                          const JobControl& job = {});
    // Makes `profile`'s reduced weights the open model's (the cuts always taken from the original
    // weights; tokenizer and checkpoint files stay): every run and analysis then sees the reduced
    // model until a3Restore(). The prompt stays, its traces are dropped.
    void a3Apply(const A3Request& request, const A3Profile& profile, const JobControl& job = {});
    // The same by the options every front end names its choices by (a3RequestFrom: --a3-ranks,
    // --a3-rope, ...; a3ProfileFrom: --a3-apply F | --a3-apply-epsilon E | --a3-apply-layers
    // F,...): the profile is read off the request's sweep, the one the last a3() call of this
    // prompt left, or computed now.
    A3EndToEnd a3EndToEnd(const Options& options, int continuation = 16, const JobControl& job = {});
    void a3Apply(const Options& options, const JobControl& job = {});
    void a3Restore();                // the original weights back (nothing applied: no-op)
    std::string a3Applied() const;  // the applied profile's name, "" for the original weights

    // ---- the attention-variants lab (analyses/variants.h) ---------------------------------
    // The request's variants on its layer's heads, compared with the softmax the model ran;
    // with request.substitute, the model re-run with each variant in place.
    VariantsResult variants(const VariantsRequest& request, const JobControl& job = {});
    // One head's softmax and one variant, maps of `tile` (the view) and every query's output,
    // entropy and metrics (the panel's side-by-side maps).
    VariantHeadPair variantHead(int layer, int head, const VariantChoice& variant, const VariantTile& tile = {},
                                const JobControl& job = {});

private:
    struct Impl;
    struct A3Access;
    std::unique_ptr<Impl> m;
};

}  // namespace attnscope
