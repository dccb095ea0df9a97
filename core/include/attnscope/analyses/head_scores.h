// Per-head scores of the head grid (one exact definition for the GUI, the CLI and sessions):
//   entropy        mean over query rows of the row entropy −Σ_j A_ij ln A_ij (nats);
//   first token    causal mean attention to token 0 (col_mean_causal[0], min query pos 0);
//   previous token mean over rows i >= 1 of A[i, i−1];
//   diagonal       mean over every row of A[i, i].
// All four come from one exact statistics pass per layer (no T x T matrix, no sampling).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "attnscope/job.h"

namespace attnscope {

class Trace;

struct HeadScores {
    int nLayers = 0, nHeads = 0;
    int64_t tokens = 0, sampledRows = 0;  // query rows behind the scores (every row: = tokens)
    std::string score = "entropy";        // the score a view shows (entropy first_token previous_token diagonal)
    std::vector<float> entropy, firstToken, previousToken, diagonal;  // [layer * nHeads + head]
};

// One layer's scores, [heads] each: the GUI fills its grid layer by layer with these.
struct HeadLayerScores {
    int layer = 0;
    std::vector<float> entropy, firstToken, previousToken, diagonal;
};

HeadLayerScores computeHeadLayerScores(const Trace& trace, int layer, const JobControl& job = {});
// An empty table of the trace's shape (every score 0), ready for mergeHeadLayer.
HeadScores emptyHeadScores(const Trace& trace);
void mergeHeadLayer(HeadScores& table, const HeadLayerScores& layer);
// Every layer (progress per layer).
HeadScores computeHeadScores(const Trace& trace, const JobControl& job = {});

}  // namespace attnscope
