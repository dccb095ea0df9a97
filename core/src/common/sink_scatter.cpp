#include "attnscope/analyses/sink_scatter.h"

#include <algorithm>

namespace attnscope {

std::vector<int64_t> sinkMarks(const SinkResult& r) {
    std::vector<int64_t> out;
    for (SinkClass cls : {SinkClass::Primary, SinkClass::Secondary}) {
        const size_t from = out.size();
        for (const SinkToken& s : r.sinks)
            if (s.cls == cls) out.push_back(s.token);
        std::sort(out.begin() + std::ptrdiff_t(from), out.end());
    }
    return out;
}

SinkScatter sinkMlpScatter(const SinkResult& r) {
    SinkScatter out;
    out.hasMlp = !r.layers.empty() && !r.layers.front().mlpNorm.empty();
    if (!out.hasMlp) return out;
    std::vector<double> rho, score, life;
    for (const SinkToken& s : r.sinks) {
        if (s.cls == SinkClass::None || s.creationLayer < 0) continue;
        out.points.push_back({s.token, s.cls, double(s.mlpNormAtCreation), double(s.meanScore), double(s.lifetime)});
        rho.push_back(s.mlpNormAtCreation);
        score.push_back(s.meanScore);
        life.push_back(s.lifetime);
    }
    out.scoreFit = fitLine(rho, score);
    out.lifetimeFit = fitLine(rho, life);
    return out;
}

}  // namespace attnscope
