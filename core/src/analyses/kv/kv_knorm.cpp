// KnormPress (reference §2.10): keep the keys of lowest L2 norm per KV head (post-RoPE;
// RoPE keeps norms). Query-free, so decode mode evicts the largest-norm key each step.
#include <algorithm>

#include "analyses/kv/kv_policy.h"

namespace attnscope::kv {
namespace {

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const int64_t T = in.T, Tp = in.promptLength;
    std::vector<float> score(static_cast<size_t>(Tp));
    for (int l = 0; l < in.nLayers; ++l)
        for (int g = 0; g < in.nKvHeads; ++g) {
            const float* n = in.keyNorm.data() + (int64_t(l) * in.nKvHeads + g) * T;
            for (int64_t j = 0; j < Tp; ++j) score[size_t(j)] = -n[j];
            sel.kept[size_t(l)][size_t(g)] = topK(score.data(), 0, Tp, budgetOf(p));
        }
}

class Decode final : public DecodeLayer {
public:
    Decode(const KvInputs& in, int layer) : m_norm(size_t(in.nKvHeads), std::vector<float>(size_t(in.T))) {
        for (int g = 0; g < in.nKvHeads; ++g)
            for (int64_t j = 0; j < in.promptLength; ++j)
                m_norm[size_t(g)][size_t(j)] = in.keyNorm[size_t((int64_t(layer) * in.nKvHeads + g) * in.T + j)];
    }
    void step(const DecodeRow& row, DecodeCache& c) override {
        for (int g = 0; g < c.heads; ++g) {
            m_norm[size_t(g)][size_t(row.i)] = row.newKeyNorm[g];
            while (c.count[size_t(g)] > c.budget) {
                int64_t worst = -1;  // largest norm; ties evict the older key
                for (int64_t j = 0; j <= row.i; ++j)
                    if (c.in[size_t(g)][size_t(j)] && (worst < 0 || m_norm[size_t(g)][size_t(j)] > m_norm[size_t(g)][size_t(worst)]))
                        worst = j;
                c.evict(g, worst, row.i);
            }
        }
    }

private:
    std::vector<std::vector<float>> m_norm;  // [Hkv][T]
};

}  // namespace

const KvPolicyEntry& knormPolicy() {
    static const KvPolicyEntry e{
        {"knorm", "KNorm: keep the lowest-norm keys", "§2.10; kvpress KnormPress (score −||k||), Devoto et al. 2024",
         true, false, {}},
        perKvHead,
        select,
        [](const KvInputs& in, const KvParams&, const KvSelection&, int l) -> std::unique_ptr<DecodeLayer> {
            return std::make_unique<Decode>(in, l);
        }};
    return e;
}

}  // namespace attnscope::kv
