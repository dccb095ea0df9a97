// What the head-role detectors of one prompt share across layers (made on first use, once per
// prompt and parameters; the Inspector keeps it): the repeated random sequence's trace, the
// OV circuit's middle product, the multiple-choice options' positions.
#pragma once
#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attnscope/analyses/head_scores.h"
#include "attnscope/job.h"

namespace attnscope {
class Model;
class Trace;
namespace core {
struct ModelConfig;
struct LayerCapture;
}  // namespace core
}  // namespace attnscope

namespace attnscope::heads {

// [BOS] + R + R with R = n random non-special token ids: R's first copy starts at `offset`
// (1 after BOS, else 0), the second at offset + n.
struct RepeatedSequence {
    std::vector<int32_t> ids;
    int64_t n = 0, offset = 0;
    std::unique_ptr<Trace> trace;  // q, k only
    std::string note;              // empty: made; else why not (then no trace)
};

// The options of a multiple-choice prompt (reference §E.3): the key token p_c ending each
// option's line and the query (the last token).
struct ChoiceOptions {
    std::string letters;        // "ABCD"
    std::vector<int64_t> keys;  // p_c
    int64_t query = -1;
    int gold = -1;     // params.answer's index, -1 for none
    std::string note;  // empty: found; else why the detectors do not apply
};

// A layer's captured tensors (post-RoPE q [T, H, d], k and v [T, Hkv, d], ...) of a trace made by
// Model::run; Error(NotFound) naming `what` when the trace is another kind or lacks them.
const core::LayerCapture& layerCapture(const Trace& trace, int layer, const char* what);
// The KV head query head `head` reads (grouped-query attention).
int kvHeadOf(const Trace& trace, int head);

class DetectorContext {
public:
    DetectorContext(const Trace& trace, Model& model, const HeadDetectorParams& params);
    ~DetectorContext();

    const Trace& trace;
    Model& model;
    const HeadDetectorParams params;
    const core::ModelConfig& config() const;

    // For the same trace, model and parameters (the Inspector's cache).
    bool sameAs(const Trace& t, const Model& m, const std::string& paramsKey) const;
    static std::string key(const HeadDetectorParams& params);

    const RepeatedSequence& repeated(const JobControl& job);
    // G = diag(γ_final) · lm_headᵀ · tok_emb [D, D], float64 on the CPU: the OV circuit W_E W_V W_O W_U
    // has the nonzero eigenvalues of W_O · G · W_V.
    const at::Tensor& ovMiddle(const JobControl& job);
    const ChoiceOptions& options();
    // Each prompt position's earlier occurrences of its token (ascending): the duplicate pattern.
    const std::vector<std::vector<int64_t>>& earlierCopies();

private:
    std::string m_key;
    std::optional<RepeatedSequence> m_repeated;
    at::Tensor m_ovMiddle;
    std::optional<ChoiceOptions> m_options;
    std::optional<std::vector<std::vector<int64_t>>> m_copies;
};

// The detectors of ctx.params on one layer of ctx.trace (head_scores.cpp).
HeadLayerScores scoreLayer(DetectorContext& ctx, int layer, const JobControl& job);
// Whether the detectors need the trace's values (retrieval).
bool detectorsNeedValues(const HeadDetectorParams& params);

}  // namespace attnscope::heads
