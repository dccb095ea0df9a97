// StreamingLLM (reference §2.1): the first `sink` tokens plus the most recent ones, the same
// for every layer and head. Decode: evict_for_space drops the oldest non-sink token.
#include <algorithm>

#include "analyses/kv/kv_policy.h"

namespace attnscope::kv {
namespace {

int64_t sinksOf(const KvParams& p) { return std::min<int64_t>(int64_t(p.get("sink")), budgetOf(p)); }

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const int64_t B = budgetOf(p), s = sinksOf(p), Tp = in.promptLength;
    std::vector<int64_t> kept;
    addRange(kept, 0, s);
    addRange(kept, Tp - (B - s), Tp);
    for (auto& layer : sel.kept) layer.assign(1, kept);
}

class Decode final : public DecodeLayer {
public:
    explicit Decode(int64_t sinks) : m_sinks(sinks) {}
    void step(const DecodeRow& row, DecodeCache& c) override {
        for (int64_t j = m_sinks; c.count[0] > c.budget && j <= row.i; ++j)
            if (c.in[0][size_t(j)]) c.evict(0, j, row.i);
    }

private:
    int64_t m_sinks;
};

}  // namespace

const KvPolicyEntry& streamingLlmPolicy() {
    static const KvPolicyEntry e{
        {"streaming_llm", "StreamingLLM: attention sinks + recent window",
         "§2.1; mit-han-lab/streaming-llm StartRecentKVCache, kvpress StreamingLLMPress (no re-rotation)", true, false,
         {{"sink", 4, 0, 1e9, {}, "start_size: first tokens always kept (class default 4 [SRC]); recent = budget − sink", false}}},
        perLayer,
        select,
        [](const KvInputs&, const KvParams& p, const KvSelection&, int) -> std::unique_ptr<DecodeLayer> {
            return std::make_unique<Decode>(sinksOf(p));
        }};
    return e;
}

}  // namespace attnscope::kv
