// Core result types <-> session sections (docs/session-format.md, "Panel sections").
// Qt-free and torch-free: the CLI's `session` verb and the GUI write the same sections.
// Every decode validates dtypes and shapes and throws Error(BadInput) with the tensor's name.
#pragma once
#include <string>
#include <vector>

#include "attnscope/analyses/sinks.h"
#include "attnscope/analyses/weibull.h"
#include "attnscope/session.h"
#include "attnscope/views.h"

namespace attnscope {

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
    std::string colormap = "viridis", scale = "linear";
    std::vector<StoredAttentionMap> maps;  // all of one shape
    const StoredAttentionMap* find(int layer, int head) const;
};
SessionSection encodeAttention(const AttentionSection& a);
AttentionSection decodeAttention(const SessionSection& s);

// --- heads: per-head scores [L, H] ------------------------------------------------------
struct HeadScoresSection {
    int nLayers = 0, nHeads = 0;
    int64_t tokens = 0, sampledRows = 0;
    std::string score = "entropy";
    std::vector<float> entropy, firstToken, previousToken, diagonal;  // [L * H]
};
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

}  // namespace attnscope
