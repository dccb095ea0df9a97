// Attention sinks for sessions and the options every front end names them by.
#include <sstream>

#include "analyses/analysis_list.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/session_codecs.h"

namespace attnscope {
namespace {

std::vector<int64_t> parsePositions(const std::string& s) {
    const std::vector<long long> v = integerList(s, "--bos");
    return {v.begin(), v.end()};
}

}  // namespace

SinkParams sinkParamsFrom(const Options& a) {
    SinkParams p;
    p.epsilon = a.number("--epsilon", p.epsilon);
    p.cosThreshold = a.number("--cos-threshold", p.cosThreshold);
    p.minQueryPos = a.integer64("--min-query-pos", 0);
    p.rule = parseSinkRule(a.str("--rule", "auto"));
    p.source = parseSinkSource(a.str("--source", "auto"));
    if (a.has("--bos")) p.bosCandidates = parsePositions(a.str("--bos"));
    return p;
}

AnalysisSpec sinksAnalysis() {
    return {"sinks", "Attention Sinks", "primary and secondary attention sinks, sink levels and per-layer views",
            {{"--epsilon", "E: a head counts for a token when its causal mean attention > E (0.3)"},
             {"--cos-threshold", "C: |cos(h_t, h_p0)| above C is sink-like (0.9)"},
             {"--min-query-pos", "P: rows before P are left out of the means (0)"},
             {"--rule", "auto|official|relative: primary-sink rule"},
             {"--source", "auto|hidden|attention: what detects candidates"},
             {"--bos", "0,1: BOS candidate positions"}},
            false,
            [](Inspector& inspector, const Options& o, const Session&, const JobControl& job) {
                SinksSection k;
                k.params = sinkParamsFrom(o);
                k.inputs = *inspector.sinkInputs(k.params, job);
                k.hasInputs = true;
                k.result = classifySinks(k.inputs, k.params);
                return encodeSinks(k);
            },
            [](const Session& session, const SessionSection& s) { decodeSinks(s, session.tokenIds); }};
}

}  // namespace attnscope
