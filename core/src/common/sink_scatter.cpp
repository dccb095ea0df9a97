#include "attnscope/analyses/sink_scatter.h"

namespace attnscope {

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
