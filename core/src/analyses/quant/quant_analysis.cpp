// The quantization lab's weight side for sessions.
#include <algorithm>
#include <sstream>

#include "analyses/analysis_list.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/session_codecs.h"

namespace attnscope {
namespace {

QuantSection quantSection(Inspector& inspector, const Options& o, const JobControl& job) {
    QuantSection q;
    WeightQuantParams quant;
    quant.scheme = o.str("--quant-scheme", "rtn-sym");
    quant.bits = o.integer("--quant-bits", 4);
    quant.group = o.integer("--quant-group", 0);
    std::stringstream methods(o.str("--quant-methods", "none,qera-exact"));
    std::getline(methods, q.methodA, ',');
    std::getline(methods, q.methodB, ',');
    parseReconMethod(q.methodA);  // clear errors before any work
    parseReconMethod(q.methodB);
    q.error = o.str("--quant-error", "output");
    if (q.error != "output" && q.error != "weight") fail(ErrorKind::BadInput, "--quant-error must be output or weight");
    const int rank = o.integer("--quant-rank", 32);
    if (rank < 0) fail(ErrorKind::BadInput, "--quant-rank must be >= 0");
    static_cast<QuantLab&>(q) = inspector.quantLab(quant, job);
    int maxRank = 0;
    for (const std::vector<ReconCurve>& curves : q.curves)
        for (const ReconCurve& c : curves) maxRank = std::max(maxRank, int(c.outputRelErr.size()) - 1);
    q.rank = std::min(rank, maxRank);  // as the panel's slider
    return q;
}

}  // namespace

AnalysisSpec quantAnalysis() {
    return {"quant", "Quantization Error",
            "every linear layer's weight and output error at every rank for every reconstruction method",
            {{"--quant-scheme", "rtn-sym|rtn-asym|mxint|nf4 (rtn-sym)"},
             {"--quant-bits", "N (4)"},
             {"--quant-group", "G: 0 = the scheme's default"},
             {"--quant-rank", "R: the bars' rank (32)"},
             {"--quant-methods", "A,B: the bars' two methods (none,qera-exact)"},
             {"--quant-error", "output|weight (output)"}},
            false,
            encodeBy(quantSection, encodeQuant),
            validateBy(decodeQuant)};
}

}  // namespace attnscope
