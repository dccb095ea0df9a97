// Random baseline: every (layer, KV head, token) gets a fixed uniform score from SplitMix64
// of seed ^ (layer << 48 | head << 32 | token); the highest `budget` survive.
#include "analyses/kv/kv_policy.h"

namespace attnscope::kv {
namespace {

float score(uint64_t seed, int layer, int head, int64_t j) {
    return float(splitMix01(seed ^ (uint64_t(layer) << 48 | uint64_t(head) << 32 | uint64_t(j))));
}

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const uint64_t seed = uint64_t(p.get("seed"));
    std::vector<float> s(size_t(in.promptLength));
    for (int l = 0; l < in.nLayers; ++l)
        for (int g = 0; g < in.nKvHeads; ++g) {
            for (int64_t j = 0; j < in.promptLength; ++j) s[size_t(j)] = score(seed, l, g, j);
            sel.kept[size_t(l)][size_t(g)] = topK(s.data(), 0, in.promptLength, budgetOf(p));
        }
}

class Decode final : public DecodeLayer {
public:
    Decode(uint64_t seed, int layer) : m_seed(seed), m_layer(layer) {}
    void step(const DecodeRow& row, DecodeCache& c) override {
        for (int g = 0; g < c.heads; ++g)
            while (c.count[size_t(g)] > c.budget) {
                int64_t worst = -1;
                float w = 2.f;
                for (int64_t j = 0; j <= row.i; ++j)
                    if (c.in[size_t(g)][size_t(j)] && score(m_seed, m_layer, g, j) < w) {
                        w = score(m_seed, m_layer, g, j);
                        worst = j;
                    }
                c.evict(g, worst, row.i);
            }
    }

private:
    uint64_t m_seed;
    int m_layer;
};

}  // namespace

const KvPolicyEntry& randomPolicy() {
    static const KvPolicyEntry e{
        {"random", "Random baseline: a fixed random score per token", "baseline", true, false,
         {{"seed", 0, 0, 9007199254740992.0, {}, "seed of the per-token scores", false}}},
        perKvHead,
        select,
        [](const KvInputs&, const KvParams& p, const KvSelection&, int l) -> std::unique_ptr<DecodeLayer> {
            return std::make_unique<Decode>(uint64_t(p.get("seed")), l);
        }};
    return e;
}

}  // namespace attnscope::kv
