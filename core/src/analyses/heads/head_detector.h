// The head-role detectors' registry (attnscope/analyses/head_scores.h): one file per detector,
// detector_<id>.cpp defines <name>Detector(), listed once in ATTNSCOPE_HEAD_DETECTORS. Torch-free:
// detectors that need tensors include head_context.h.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attnscope/analyses/head_scores.h"
#include "attnscope/attention_stats.h"
#include "attnscope/job.h"

namespace attnscope {
class Trace;
}

namespace attnscope::heads {

class DetectorContext;  // head_context.h: what every layer shares

// What one layer's detectors read.
class LayerInputs {
public:
    LayerInputs(DetectorContext& ctx, int layer, const JobControl& job);
    DetectorContext& ctx;
    const Trace& trace;  // the prompt's
    const HeadDetectorParams& params;
    const int layer, nHeads;
    const JobControl& job;
    // The layer's exact statistics (row entropy, causal column means, A[i, i], A[i, i−1]): one
    // pass over the layer, shared by the detectors that read it.
    const std::vector<HeadStats>& stats();
    // The prompt's duplicate-token and induction pattern scores of every head ([heads] each, NaN
    // when no row has a pattern entry) and their notes: one pass over the rows both need.
    struct Patterns {
        std::vector<float> duplicate, induction;
        std::string duplicateNote, inductionNote;
    };
    const Patterns& patterns();

private:
    std::vector<HeadStats> m_stats;
    bool m_haveStats = false;
    std::optional<Patterns> m_patterns;
};

// One layer's scores [heads] (NaN: does not apply) and, for the whole prompt, what they were
// computed on or why they are NaN.
struct DetectorResult {
    std::vector<float> heads;
    std::string note;
};
using DetectorFn = DetectorResult (*)(LayerInputs& in);
struct DetectorEntry {
    HeadDetectorInfo info;
    DetectorFn compute = nullptr;
};

#define ATTNSCOPE_HEAD_DETECTORS(X)                                                                           \
    X(entropy)                                                                                                \
    X(firstToken) X(previousToken) X(diagonal) X(duplicateToken) X(induction) X(inductionRepeated) X(copying) \
        X(selectCopyQk) X(selectCopyAttn) X(retrieval)
#define ATTNSCOPE_HEAD_DETECTOR_DECLARE(name) const DetectorEntry& name##Detector();
ATTNSCOPE_HEAD_DETECTORS(ATTNSCOPE_HEAD_DETECTOR_DECLARE)
#undef ATTNSCOPE_HEAD_DETECTOR_DECLARE

// ---- shared pieces (head_rows.cpp) ----

float meanFrom(const std::vector<float>& v, size_t from);  // mean of v[from..]; 0 when empty
// NaN for every head: the detector does not apply to this prompt, `note` says why.
DetectorResult notApplicable(const LayerInputs& in, std::string note);
// Every head's value of `perHead` (NaN-free scores from the statistics).
DetectorResult fromStats(LayerInputs& in, const std::function<float(const HeadStats&)>& perHead);

// Rows `rows` (ascending, distinct) of one head's attention in `trace`: visit(i, a) with a[j] =
// A[i, j] for keys j = 0..i, in tiles of at most kRowTileElements probabilities.
inline constexpr int64_t kRowTileElements = int64_t(1) << 22;
void forAttentionRows(const Trace& trace, int layer, int head, const std::vector<int64_t>& rows,
                      const std::function<void(int64_t i, const float* a)>& visit, const JobControl& job);
// The same a tile at a time: rows r0..r1 - 1 (all of them in `rows`), a[(i − r0) * r1 + j].
void forAttentionTiles(const Trace& trace, int layer, int head, const std::vector<int64_t>& rows,
                       const std::function<void(int64_t r0, int64_t r1, const float* a)>& visit, const JobControl& job);

}  // namespace attnscope::heads
