// The head grid's scores for sessions (definitions in attnscope/analyses/head_scores.h).
#include "analyses/analysis_list.h"
#include "attnscope/inspector.h"
#include "attnscope/session_codecs.h"

namespace attnscope {

AnalysisSpec headsAnalysis() {
    return {"heads",
            "Heads",
            "per-head mean row entropy, first-token, previous-token and diagonal attention (exact)",
            {},
            false,
            [](Inspector& inspector, const Options&, const Session&, const JobControl& job) {
                return encodeHeadScores(inspector.headScores(job));
            },
            validateBy(decodeHeadScores)};
}

}  // namespace attnscope
