// The registry's entries, one per analysis folder (analysis_registry.cpp lists them in order).
#pragma once
#include "attnscope/analysis_registry.h"
#include "attnscope/session_codecs.h"

namespace attnscope {

// The `compute` of an analysis that ignores earlier sections: encode(result(inspector, options, job)).
template <class Result, class Encode>
auto encodeBy(Result result, Encode encode) {
    return [result, encode](Inspector& inspector, const Options& o, const Session&, const JobControl& job) {
        return encode(result(inspector, o, job));
    };
}

AnalysisSpec attentionAnalysis();  // attention/attention_analysis.cpp
AnalysisSpec headsAnalysis();      // heads/heads_analysis.cpp
HeadDetectorParams headDetectorParams(const Options& options);  // the heads verb's options
AnalysisSpec sinksAnalysis();      // sinks/sinks_analysis.cpp
AnalysisSpec weibullAnalysis();    // weibull/weibull_analysis.cpp
AnalysisSpec kvAnalysis();         // kv/kv_analysis.cpp
AnalysisSpec quantAnalysis();      // quant/quant_analysis.cpp
AnalysisSpec entropyAnalysis();    // entropy/entropy_analysis.cpp
AnalysisSpec a3Analysis();         // a3/a3_analysis.cpp
AnalysisSpec variantsAnalysis();   // variants/variants_analysis.cpp
AnalysisSpec logitLensAnalysis();  // interventions/interventions_analysis.cpp
AnalysisSpec interveneAnalysis();
AnalysisSpec patchAnalysis();

}  // namespace attnscope
