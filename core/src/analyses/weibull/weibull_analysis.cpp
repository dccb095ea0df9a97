// Weibull fits of the weights for sessions.
#include "analyses/analysis_list.h"
#include "attnscope/inspector.h"
#include "attnscope/session_codecs.h"

namespace attnscope {
namespace {

WeibullSection weibullSection(Inspector& inspector, const Options& o, const JobControl& job) {
    WeibullSection w;
    w.params.protocol = parseWeibullProtocol(o.str("--protocol", "exact"));
    w.params.trim = parseWeibullTrim(o.str("--trim", "mid80"));
    w.fits = inspector.weibullFits(w.params, job);
    w.selected = o.str("--weibull-matrix");
    if (w.selected.empty())  // the panel's default: the first matrix inside the blocks
        for (const WeibullMatrixFit& f : w.fits)
            if (f.layer >= 0) {
                w.selected = f.name;
                break;
            }
    if (!w.selected.empty()) {
        w.plot = inspector.weibullPlot(w.selected, w.params);
        w.hasPlot = true;
    }
    return w;
}

}  // namespace

AnalysisSpec weibullAnalysis() {
    return {"weibull", "Weight Weibull Fits",
            "Weibull k, lambda, R2, KS and class of |w| for every weight matrix, and one matrix's plot",
            {{"--protocol", "exact|hist: the fit protocol (exact)"},
             {"--trim", "mid80|mid90|full: the fitted quantile band (mid80)"},
             {"--weibull-matrix", "NAME: the matrix whose probability plot is stored (the first in a block)"}},
            false,
            encodeBy(weibullSection, encodeWeibull),
            validateBy(decodeWeibull)};
}

}  // namespace attnscope
