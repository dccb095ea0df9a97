// The analysis registry: one line per analysis, in the order sessions compute them.
#include "attnscope/analysis_registry.h"

#include "analyses/analysis_list.h"
#include "attnscope/error.h"

namespace attnscope {

const std::vector<AnalysisSpec>& analysisRegistry() {
    static const std::vector<AnalysisSpec> entries = {
        attentionAnalysis(), headsAnalysis(),     sinksAnalysis(),     weibullAnalysis(),
        kvAnalysis(),        quantAnalysis(),     entropyAnalysis(),   a3Analysis(),
        variantsAnalysis(),  logitLensAnalysis(), interveneAnalysis(), patchAnalysis(),
    };
    return entries;
}

std::vector<std::string> analysisIds() {
    std::vector<std::string> ids;
    for (const AnalysisSpec& a : analysisRegistry()) ids.push_back(a.id);
    return ids;
}

std::vector<std::string> defaultSessionIds() {
    std::vector<std::string> ids;
    for (const AnalysisSpec& a : analysisRegistry())
        if (a.inDefaultSession) ids.push_back(a.id);
    return ids;
}

const AnalysisSpec& findAnalysis(const std::string& id) {
    std::string known;
    for (const AnalysisSpec& a : analysisRegistry()) {
        if (a.id == id) return a;
        known += (known.empty() ? "" : ", ") + a.id;
    }
    fail(ErrorKind::BadInput, "unknown analysis '" + id + "' (" + known + ")");
}

AnalysisView analysisView(const Options& o) {
    return {o.integer("--layer", 0), o.integer("--head", 0), o.integer64("--token", -1)};
}

}  // namespace attnscope
