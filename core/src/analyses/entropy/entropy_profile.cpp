// Attention entropy by layer from each layer's exact row entropies (entropy.h).
#include "attnscope/analyses/entropy.h"
#include "attnscope/trace.h"

namespace attnscope {

EntropyProfile computeEntropyProfile(const Trace& trace, const JobControl& job) {
    EntropyProfile e;
    e.nLayers = trace.nLayers();
    e.tokens = trace.length();
    e.entropy.assign(size_t(e.nLayers) * size_t(e.tokens), 0.f);
    for (int l = 0; l < e.nLayers; ++l) {
        job.check();
        StatsOptions options;
        options.job.stop = job.stop;
        const std::vector<HeadStats> heads = trace.layerStats(l, options);
        std::vector<double> sum(size_t(e.tokens), 0.0);
        for (const HeadStats& h : heads)
            for (int64_t i = 0; i < e.tokens; ++i) sum[size_t(i)] += h.entropy[size_t(i)];
        double mean = 0;
        for (int64_t i = 0; i < e.tokens; ++i) {
            const double v = sum[size_t(i)] / double(heads.size());
            e.entropy[size_t(int64_t(l) * e.tokens + i)] = float(v);
            mean += v;
        }
        e.layerMean.push_back(float(e.tokens > 0 ? mean / double(e.tokens) : 0.0));
        job.report(double(l + 1) / double(e.nLayers));
    }
    return e;
}

}  // namespace attnscope
