// The registry's entries, one per analysis folder (analysis_registry.cpp lists them in order).
#pragma once
#include "attnscope/analysis_registry.h"

namespace attnscope {

// The `validate` of an analysis whose codec needs nothing but the section.
template <class Decode>
auto validateBy(Decode decode) {
    return [decode](const Session&, const SessionSection& section) { decode(section); };
}

AnalysisSpec attentionAnalysis();  // attention/attention_analysis.cpp
AnalysisSpec headsAnalysis();      // heads/heads_analysis.cpp
AnalysisSpec sinksAnalysis();      // sinks/sinks_analysis.cpp
AnalysisSpec weibullAnalysis();    // weibull/weibull_analysis.cpp
AnalysisSpec kvAnalysis();         // kv/kv_analysis.cpp
AnalysisSpec quantAnalysis();      // quant/quant_analysis.cpp
AnalysisSpec entropyAnalysis();    // entropy/entropy_analysis.cpp

}  // namespace attnscope
