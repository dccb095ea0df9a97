// Core result types <-> session sections (docs/session-format.md, "Panel sections").
// Qt-free and torch-free: the CLI's `session` verb and the GUI write the same sections.
// Every decode validates dtypes and shapes and throws Error(BadInput) with the tensor's name.
#pragma once
#include <string>
#include <vector>

#include "attnscope/analyses/head_scores.h"
#include "attnscope/analyses/kv.h"
#include "attnscope/analyses/quant.h"
#include "attnscope/analyses/sinks.h"
#include "attnscope/analyses/weibull.h"
#include "attnscope/session.h"
#include "attnscope/views.h"

namespace attnscope {

// A section validator (the core registry's AnalysisSpec::validate, the widgets' PanelSessionSpec::validate)
// for a codec whose decode needs nothing but the section: it decodes and drops the result.
template <class Decode>
auto validateBy(Decode decode) {
    return [decode](const Session&, const SessionSection& section) { decode(section); };
}

// --- attention: stored maps --------------------------------------------------------------
struct StoredAttentionMap {
    int layer = 0;
    int head = 0;                       // -1: mean over heads
    int64_t q0 = 0, q1 = 0, k0 = 0, k1 = 0;  // half-open query and key ranges it covers
    Matrix2D matrix;                    // [rows, cols], max-pooled when smaller than the ranges
};
struct AttentionSection {
    int layer = 0, head = 0;
    int nLayers = 0, nHeads = 0;  // model shape (0: unknown, taken from the stored maps)
    std::string colormap = "viridis", scale = "auto";  // linear | log | auto (log above 128 tokens)
    std::vector<StoredAttentionMap> maps;  // all of one shape
    const StoredAttentionMap* find(int layer, int head) const;
};
SessionSection encodeAttention(const AttentionSection& a);
AttentionSection decodeAttention(const SessionSection& s);

// --- heads: per-head scores [L, H] (the analysis's own result type) ---------------------
using HeadScoresSection = HeadScores;
SessionSection encodeHeadScores(const HeadScoresSection& h);
HeadScoresSection decodeHeadScores(const SessionSection& s);

// --- sinks: parameters, the classification, and the inputs to re-classify ---------------
struct SinksSection {
    SinkParams params;
    std::string quantity = "score";  // the panel's shown quantity
    SinkResult result;
    bool hasInputs = false;
    SinkInputs inputs;  // ids are the session's token ids
};
SessionSection encodeSinks(const SinksSection& s);
SinksSection decodeSinks(const SessionSection& s, const std::vector<int32_t>& tokenIds);

// --- weibull: every matrix's fit and the selected matrix's plot --------------------------
struct WeibullSection {
    WeibullParams params;
    std::vector<WeibullMatrixFit> fits;
    std::string selected;  // matrix name, may be empty
    bool hasPlot = false;
    WeibullPlot plot;      // of `selected`
};
SessionSection encodeWeibull(const WeibullSection& w);
WeibullSection decodeWeibull(const SessionSection& s);

// --- kv: policy A's decision and metrics, policy B's decision, the budget sweep ----------
struct KvSection {
    // The registry entries the panel was built from (so views label policies and lay out
    // their parameters without core); may be empty.
    std::vector<KvPolicyInfo> policies;
    TokenStrip tokens;  // prompt + the evaluated continuation (T of the decisions), or empty
    KvParams params;    // A
    KvSelection selection;
    KvLocalMetrics metrics;
    bool hasEndToEnd = false;
    KvEndToEnd endToEnd;
    bool hasCompare = false;
    KvParams compareParams;  // B
    KvSelection compare;
    std::vector<KvSweepRow> sweep;
    std::string sweepMetric = "kl";  // kl top1 retained_mass output_rel_err ppl
    bool sweepLog = true;
    std::vector<int64_t> sinks;  // sink positions marked on the maps
    int step = 0;                // decode mode: the step the maps show
};
SessionSection encodeKv(const KvSection& k);
KvSection decodeKv(const SessionSection& s);

// --- quant: every matrix's error against rank for every method (the weight side) ---------
struct QuantSection : QuantLab {  // the lab's tables and the panel's view state
    std::string methodA = "none", methodB = "qera-exact";  // the bars' two methods
    std::string error = "output";                 // output | weight
    std::string component;                        // bars' component filter, empty = all
    int rank = 0;
    int matrix = 0;                               // the curves' matrix
};
SessionSection encodeQuant(const QuantSection& q);
QuantSection decodeQuant(const SessionSection& s);

}  // namespace attnscope
