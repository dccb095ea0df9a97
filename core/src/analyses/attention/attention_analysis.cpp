// Attention maps for sessions: every layer x (heads + mean) when they fit in 256 MiB, else the
// selected layer's; maps larger than --max-map per side max-pooled (as the GUI's overview).
#include <algorithm>

#include "analyses/analysis_list.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/session_codecs.h"

namespace attnscope {
namespace {

AttentionSection attentionMaps(Inspector& inspector, const AnalysisView& view, int maxMap, const JobControl& job) {
    const Trace& trace = inspector.trace(viewTracePolicy(), job);
    AttentionSection a;
    a.layer = view.layer;
    a.head = view.head;
    a.nLayers = trace.nLayers();
    a.nHeads = trace.nHeads();
    const int64_t T = trace.length();
    const int side = int(std::min<int64_t>(T, maxMap));
    const int64_t perMap = int64_t(side) * side * 4;
    const bool all = perMap * trace.nLayers() * (trace.nHeads() + 1) <= (256ll << 20);
    for (int l = 0; l < trace.nLayers(); ++l) {
        if (!all && l != view.layer) continue;
        for (int h = -1; h < trace.nHeads(); ++h) {
            job.check();
            Matrix2D m = side == T ? inspector.attentionTile(l, h, 0, T, 0, T)
                                   : inspector.overview(l, h, 0, T, 0, T, side, side, Pool::Max);
            a.maps.push_back({l, h, 0, T, 0, T, std::move(m)});
        }
    }
    return a;
}

AttentionSection attentionSection(Inspector& inspector, const Options& o, const JobControl& job) {
    const int maxMap = o.integer("--max-map", 256);
    if (maxMap < 8 || maxMap > 4096) fail(ErrorKind::BadInput, "--max-map must be in [8, 4096]");
    return attentionMaps(inspector, analysisView(o), maxMap, job);
}

}  // namespace

AnalysisSpec attentionAnalysis() {
    return {"attention", "Attention Maps",
            "every layer x head's attention map (exact, or block-max pooled to --max-map cells)",
            {{"--layer", "L: the selected layer (0)"},
             {"--head", "H: the selected head, -1 = mean of heads (0)"},
             {"--max-map", "N: maps larger than N x N tokens are max-pooled to N x N (256)"}},
            false,
            encodeBy(attentionSection, encodeAttention),
            validateBy(decodeAttention)};
}

}  // namespace attnscope
