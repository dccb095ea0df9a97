// Internal interface of the KV policies: one registry entry per policy file, shared
// selection helpers (deterministic top-k, GQA aggregation, pooling) and the decode-step
// state machine the decode drivers run.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attnscope/analyses/kv.h"

namespace attnscope::kv {

enum class Gqa { None, Mean, Max, Sum };
enum class PoolKind { Avg, Max };

inline const std::vector<std::string>& gqaChoices() {
    static const std::vector<std::string> c = {"none", "mean", "max", "sum"};
    return c;
}
inline const std::vector<std::string>& poolChoices() {
    static const std::vector<std::string> c = {"avg", "max"};
    return c;
}
Gqa gqaOf(const KvParams& p);  // "gqa" parameter
PoolKind poolOf(const KvParams& p);

// The cache of one layer during a decode simulation, per head of the granularity.
struct DecodeCache {
    int heads = 0;
    int64_t T = 0;
    int64_t budget = 0;
    std::vector<std::vector<uint8_t>> in;  // [heads][T] 1 = in the cache
    std::vector<int64_t> count;            // [heads]
    int64_t* until = nullptr;              // [heads, T] the selection's slice of this layer

    // Evicted after row i: queries from i + 1 on no longer see key j.
    void evict(int h, int64_t j, int64_t i) {
        in[size_t(h)][size_t(j)] = 0;
        --count[size_t(h)];
        until[int64_t(h) * T + j] = i + 1;
    }
    // The `n` newest cache entries of head h, ascending.
    std::vector<int64_t> newest(int h, int64_t n) const;
};

// One decode step of one layer: token i has joined the cache and query i attended to it.
struct DecodeRow {
    int64_t i = 0;
    int nHeads = 0, nKvHeads = 0;
    const float* probs = nullptr;          // [H, i+1] row i over its visible keys (0 elsewhere)
    const int64_t* visible = nullptr;      // [H] keys query head h saw (its uniform level is 1/visible)
    const float* newKeyNorm = nullptr;     // [Hkv] ||k_i||
};

// A policy's per-layer state in decode mode: after each row it evicts down to the budget.
class DecodeLayer {
public:
    virtual ~DecodeLayer() = default;
    virtual void step(const DecodeRow& row, DecodeCache& cache) = 0;
};

struct KvPolicyEntry {
    KvPolicyInfo info;
    KvGranularity (*granularity)(const KvInputs&, const KvParams&);
    // The prefill decision: fills sel.kept[l][h] (sorted prompt positions) and sel.layerBudget.
    void (*select)(const KvInputs&, const KvParams&, KvSelection&);
    // Decode mode state for one layer, started from the prefill decision; null: prefill only.
    std::unique_ptr<DecodeLayer> (*decoder)(const KvInputs&, const KvParams&, const KvSelection&, int layer);
};

// The granularities an entry names most (KvPolicyEntry::granularity).
inline KvGranularity perLayer(const KvInputs&, const KvParams&) { return KvGranularity::Layer; }
inline KvGranularity perKvHead(const KvInputs&, const KvParams&) { return KvGranularity::KvHead; }
inline KvGranularity perQueryHead(const KvInputs&, const KvParams&) { return KvGranularity::QueryHead; }
KvGranularity gqaGranularity(Gqa g);  // None → QueryHead, else KvHead
inline KvGranularity byGqaParam(const KvInputs&, const KvParams& p) { return gqaGranularity(gqaOf(p)); }

// KvPolicyEntry::decoder for a decode state that starts empty (it reads only the cache).
template <class Decode>
std::unique_ptr<DecodeLayer> freshDecoder(const KvInputs&, const KvParams&, const KvSelection&, int) {
    return std::make_unique<Decode>();
}

// The registry (kv_registry.cpp) and every policy's entry, one per file: X(name) stands for
// `const KvPolicyEntry& namePolicy()` in kv_name.cpp. Registry order is this list's order
// (the panels and the CLI list policies in it); adding a policy is its file and one X here.
const std::vector<const KvPolicyEntry*>& registry();
const KvPolicyEntry& entry(const std::string& name);
#define ATTNSCOPE_KV_POLICIES(X)                                                                          \
    X(streamingLlm) X(h2o) X(snapKv) X(pyramidKv) X(tova) X(scissorhands) X(zipCache) X(triAttention) \
        X(expectedAttention) X(knorm) X(random) X(recency)
#define ATTNSCOPE_KV_DECLARE(name) const KvPolicyEntry& name##Policy();
ATTNSCOPE_KV_POLICIES(ATTNSCOPE_KV_DECLARE)
#undef ATTNSCOPE_KV_DECLARE

// ---- selection helpers --------------------------------------------------------------

// The k best of score[lo, hi) as sorted positions. Ties keep the later token [RECON: every
// policy and the tests break ties this way, the sources leave it to torch.topk].
std::vector<int64_t> topK(const float* score, int64_t lo, int64_t hi, int64_t k);
// kept ∪ [lo, hi), sorted (window / recent / sink ranges).
void addRange(std::vector<int64_t>& kept, int64_t lo, int64_t hi);

// Per-query-head rows [H, n] → [Hkv, n] with the group's mean/max/sum (None: copy [H, n]).
std::vector<float> groupReduce(const float* perQuery, int H, int Hkv, int64_t n, Gqa how);
// Pool1d with stride 1 and padding kernel/2: avg counts the padding (count_include_pad, as
// torch's avg_pool1d in SnapKV), max ignores it.
std::vector<float> pool1d(const float* x, int64_t n, int kernel, PoolKind kind);

// SnapKV's scores of layer l (shared with PyramidKV): window sums of the last w prompt rows
// over the prefix j < T_p − w, pooled per query head, then reduced per KV head (kvpress).
// [heads, T_p − w].
std::vector<float> snapScores(const KvInputs& in, int layer, int64_t window, int kernel, PoolKind pool, Gqa gqa);
// Window [T_p − w, T_p) plus the top `capacity` pooled prefix scores.
std::vector<int64_t> snapKeep(const float* scores, int64_t promptLength, int64_t window, int64_t capacity);

// Heads of the granularity.
int headsOf(KvGranularity g, const KvInputs& in);

// Deterministic random numbers for the random baseline: uniform [0, 1) from SplitMix64.
double splitMix01(uint64_t x);

// Budget parameter shared by every policy: > 0.
int64_t budgetOf(const KvParams& p);

}  // namespace attnscope::kv
