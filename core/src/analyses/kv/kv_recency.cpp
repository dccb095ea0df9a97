// Recency baseline: the last `budget` tokens, every layer and head alike (a sliding window).
#include "analyses/kv/kv_policy.h"

namespace attnscope::kv {
namespace {

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    std::vector<int64_t> kept;
    addRange(kept, in.promptLength - budgetOf(p), in.promptLength);
    for (auto& layer : sel.kept) layer.assign(1, kept);
}

class Decode final : public DecodeLayer {
public:
    void step(const DecodeRow& row, DecodeCache& c) override {
        for (int64_t j = 0; c.count[0] > c.budget && j <= row.i; ++j)
            if (c.in[0][size_t(j)]) c.evict(0, j, row.i);
    }
};

}  // namespace

const KvPolicyEntry& recencyPolicy() {
    static const KvPolicyEntry e{
        {"recency", "Recency baseline: the last budget tokens", "baseline (a sliding window)", true, false, {}},
        perLayer,
        select,
        freshDecoder<Decode>};
    return e;
}

}  // namespace attnscope::kv
