// Head roles: per-(layer, head) detector scores and the role each head is labelled with. One
// exact definition for the GUI's grid, `attnscope-cli heads` and sessions (reference
// attention-variants-and-heads.md §E; each detector is one registry entry in one file of
// core/src/analyses/heads/). The detectors:
//   entropy            mean over query rows of −Σ_j A_ij ln A_ij (nats)
//   first_token        causal mean attention to token 0 (the sink)
//   previous_token     mean over rows i ≥ 1 of A[i, i−1]
//   diagonal           mean over every row of A[i, i]
//   duplicate_token    Σ(A ⊙ D)/Σ A over the prompt, D[i, j] = [tok_j = tok_i, j < i] (TransformerLens "mul")
//   induction          the same with D[i, j] = [tok_{j−1} = tok_i, j ≤ i]: the token after an earlier copy
//   induction_repeated mean_{i=n+1..2n−1} A[i, i−n+1] on [BOS] + R + R, R = n random tokens
//                      (distinct while the vocabulary allows: one earlier occurrence each)
//   copying            Σ Re λ / Σ |λ| over the eigenvalues of the OV circuit W_E W_V W_O W_U
//   select_copy_qk     "Listening to the Wise Few": softmax over the options of q_last · k_{p_c}
//   select_copy_attn   A[last, p_c], p_c = the token ending option c's line
//   retrieval          DuoAttention-style proxy: output error of a streaming mask (sinks + window)
// Rows and exclusions follow HeadDetectorParams; a detector that does not apply to the prompt
// (no repeats, no options, too short) gives NaN with a note saying why.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attnscope/job.h"

namespace attnscope {

struct HeadDetectorInfo {
    std::string id;        // "previous_token"
    std::string title;     // "Previous-token score"
    std::string axis;      // colour-bar title: "mean A[i, i−1]"
    std::string help;      // what it measures, its source
    std::string role;      // the role a head above the threshold plays ("" = not a role: entropy)
    double threshold = 0;  // default role threshold
    // A broad property many heads have (copying, retrieval): labels a head only when none of the
    // pattern roles (sink, previous-token, self, duplicate-token, induction, select-and-copy) does.
    bool secondary = false;
};
// Every detector, in registry order (torch-free).
const std::vector<HeadDetectorInfo>& headDetectors();
const HeadDetectorInfo& headDetector(const std::string& id);  // Error(BadInput) naming the known ids

struct HeadDetectorParams {
    std::vector<std::string> detectors;  // ids to compute; empty = every detector
    // duplicate_token, induction on the prompt: rows with at least one pattern entry ("matched",
    // the default) or every row (TransformerLens' own normalisation); exclusions as TL's.
    bool matchedRows = true;
    bool excludeBos = false, excludeCurrent = false;
    // induction_repeated: n random non-special tokens, twice, after BOS (when the tokenizer has one).
    int inductionLength = 50;
    uint64_t seed = 0;
    // select_copy_*: the gold option letter ("" = none: each head's own best option is scored);
    // the option's key token: the newline ending its line, or the last token before it.
    std::string answer;
    bool eolNewline = true;
    // retrieval: streaming mask = the first `streamSinks` tokens + the last `streamWindow` keys;
    // error over the last `retrievalTail` share of the rows.
    int streamSinks = 4, streamWindow = 256;
    double retrievalTail = 0.25;
    // Role thresholds by detector id (missing: the detector's default).
    std::map<std::string, double> thresholds;
};

struct HeadScores {
    int nLayers = 0, nHeads = 0;
    int64_t tokens = 0, sampledRows = 0;       // query rows behind the prompt scores (every row: = tokens)
    std::string score = "entropy";             // the score a view shows (a detector id, or "roles")
    std::vector<HeadDetectorInfo> infos;       // the detectors computed, registry order; thresholds in effect
    std::vector<std::vector<float>> values;    // [detector][layer * nHeads + head]; NaN: does not apply
    std::map<std::string, std::string> notes;  // by detector id: what it was computed on, or why NaN

    int indexOf(const std::string& id) const;                     // -1 when not computed
    const std::vector<float>* find(const std::string& id) const;  // null when not computed
};

// One layer's scores, [detector][head]: the GUI fills its grid layer by layer with these.
struct HeadLayerScores {
    int layer = 0;
    std::vector<HeadDetectorInfo> infos;
    std::vector<std::vector<float>> values;
    std::map<std::string, std::string> notes;
};

// ---- the table (torch-free; attnscope_io) ----
// An empty table (NaN everywhere) of the given shape, ready for mergeHeadLayer.
HeadScores emptyHeadScores(int nLayers, int nHeads, std::vector<HeadDetectorInfo> infos);
// Adds one layer (its detectors must be the table's); Error(BadInput) when it does not fit.
void mergeHeadLayer(HeadScores& table, const HeadLayerScores& layer);
// Each head's role [layer * nHeads + head]: among the computed detectors with a role whose score
// reaches its threshold, the one with the largest score / threshold, pattern roles before
// secondary ones; "" for none (or NaN).
std::vector<std::string> headRoles(const HeadScores& table);
// The table's roles in registry order, each once (the legend).
std::vector<std::string> headRoleNames(const HeadScores& table);

// ---- the detectors (attnscope_core) ----
// The detectors `params` asks for, in registry order, with its thresholds applied
// (Error(BadInput) for an unknown id).
std::vector<HeadDetectorInfo> headDetectorSelection(const HeadDetectorParams& params);

}  // namespace attnscope
