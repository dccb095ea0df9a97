// selectKv: the cheap, per-parameter half. Resolves the policy's granularity, lets it fill
// the kept sets, and writes the visibility limits the metrics and re-runs use.
#include <algorithm>

#include "analyses/kv/kv_policy.h"
#include "attnscope/error.h"

namespace attnscope {

int KvSelection::headOf(int queryHead) const {
    switch (granularity) {
    case KvGranularity::Layer: return 0;
    case KvGranularity::KvHead: return queryHead / (nHeads / nKvHeads);
    case KvGranularity::QueryHead: return queryHead;
    }
    return 0;
}

KvSelection selectKv(const KvInputs& in, const KvParams& p) {
    const kv::KvPolicyEntry& e = kv::entry(p.policy);
    const int64_t B = kv::budgetOf(p), T = in.T, Tp = in.promptLength;
    if (kvNeedsRecompute(in, p))
        fail(ErrorKind::BadInput, p.policy + ": these parameters need the KV inputs computed again (kvInputOptionsFor)");
    KvSelection sel;
    sel.policy = p.policy;
    sel.granularity = e.granularity(in, p);
    sel.mode = KvMode::Prefill;
    sel.precision = e.info.precision;
    sel.T = T;
    sel.promptLength = Tp;
    sel.nLayers = in.nLayers;
    sel.nHeads = in.nHeads;
    sel.nKvHeads = in.nKvHeads;
    sel.heads = kv::headsOf(sel.granularity, in);
    sel.kept.assign(size_t(in.nLayers), std::vector<std::vector<int64_t>>(size_t(sel.heads)));
    sel.layerBudget.assign(size_t(in.nLayers), std::min(B, Tp));
    if (B >= Tp && !e.info.precision) {
        std::vector<int64_t> all;
        kv::addRange(all, 0, Tp);
        for (auto& layer : sel.kept) std::fill(layer.begin(), layer.end(), all);
    } else {
        e.select(in, p, sel);
    }
    sel.until.assign(size_t(int64_t(in.nLayers) * sel.heads * T), kKvNever);
    if (sel.precision) return sel;
    std::vector<uint8_t> keep(static_cast<size_t>(Tp));
    for (int l = 0; l < in.nLayers; ++l)
        for (int h = 0; h < sel.heads; ++h) {
            std::fill(keep.begin(), keep.end(), 0);
            for (int64_t j : sel.kept[size_t(l)][size_t(h)]) keep[size_t(j)] = 1;
            int64_t* u = sel.until.data() + (int64_t(l) * sel.heads + h) * T;
            for (int64_t j = 0; j < Tp; ++j)
                if (!keep[size_t(j)]) u[j] = Tp;
        }
    return sel;
}

}  // namespace attnscope
