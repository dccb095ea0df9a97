// Scissorhands (reference §2.6, paper algorithm; no official code): over a history of the
// last w attention rows, u_j counts the rows in which token j got less than the uniform
// share 1/t (t = keys the row saw). The r most recent tokens are protected; over budget,
// the tokens with the largest u_j go (m at a time in decode mode). Per query head.
#include <algorithm>
#include <deque>

#include "analyses/kv/kv_policy.h"
#include "attnscope/error.h"

namespace attnscope::kv {
namespace {

struct Sizes {
    int64_t history, recent, drop;
};

// Defaults of a third-party implementation [RECON]: w = B/2, r = B/4, m = B/2.
Sizes sizesOf(const KvParams& p) {
    const int64_t B = budgetOf(p);
    auto pick = [](double v, int64_t dflt) { return v >= 0 ? int64_t(v) : dflt; };
    Sizes s{pick(p.get("window"), B / 2), pick(p.get("recent"), B / 4), pick(p.get("drop"), B / 2)};
    s.history = std::max<int64_t>(s.history, 1);
    s.recent = std::min(s.recent, B);
    s.drop = std::max<int64_t>(s.drop, 1);
    return s;
}

// Keys row s (absolute) sees: [lo, s] with a sliding window.
int64_t firstVisible(int64_t s, int64_t window) { return window > 0 ? std::max<int64_t>(0, s - window + 1) : 0; }

// u over the last `history` prompt rows of query head h in layer l: [T_p].
std::vector<float> counts(const KvInputs& in, int l, int h, int64_t history) {
    const int64_t Tp = in.promptLength, W = in.windowRows;
    if (history > W) fail(ErrorKind::BadInput, "scissorhands history of " + std::to_string(history) + " rows needs inputs with that many rows");
    std::vector<float> u(size_t(Tp), 0.f);
    const float* rows = in.windowProbs.data() + (int64_t(l) * in.nHeads + h) * W * Tp;
    for (int64_t r = W - history; r < W; ++r) {
        const int64_t s = Tp - W + r, lo = firstVisible(s, in.slidingWindow);
        const float level = 1.f / float(s + 1 - lo);
        for (int64_t j = lo; j <= s; ++j) u[size_t(j)] += rows[r * Tp + j] < level ? 1.f : 0.f;
    }
    return u;
}

void select(const KvInputs& in, const KvParams& p, KvSelection& sel) {
    const int64_t B = budgetOf(p), Tp = in.promptLength;
    const Sizes z = sizesOf(p);
    for (int l = 0; l < in.nLayers; ++l)
        for (int h = 0; h < in.nHeads; ++h) {
            std::vector<float> u = counts(in, l, h, std::min(z.history, Tp));
            for (float& v : u) v = -v;  // fewest "unimportant" rows first
            std::vector<int64_t> kept = topK(u.data(), 0, Tp - z.recent, B - z.recent);
            addRange(kept, Tp - z.recent, Tp);
            sel.kept[size_t(l)][size_t(h)] = std::move(kept);
        }
}

class Decode final : public DecodeLayer {
public:
    Decode(const KvInputs& in, const KvParams& p, int l) : m_z(sizesOf(p)) {
        const int64_t Tp = in.promptLength, W = in.windowRows, hist = std::min(m_z.history, Tp);
        if (hist > W) fail(ErrorKind::BadInput, "scissorhands history needs more window rows in the inputs");
        m_u.assign(size_t(in.nHeads), std::vector<float>(size_t(in.T), 0.f));
        m_rows.resize(size_t(in.nHeads));
        for (int h = 0; h < in.nHeads; ++h) {
            const float* rows = in.windowProbs.data() + (int64_t(l) * in.nHeads + h) * W * Tp;
            for (int64_t r = W - hist; r < W; ++r) {
                const int64_t s = Tp - W + r, lo = firstVisible(s, in.slidingWindow);
                std::vector<int64_t> flagged;
                for (int64_t j = lo; j <= s; ++j)
                    if (rows[r * Tp + j] < 1.f / float(s + 1 - lo)) flagged.push_back(j);
                push(h, std::move(flagged));
            }
        }
    }
    void step(const DecodeRow& row, DecodeCache& c) override {
        const int64_t n = row.i + 1;
        for (int h = 0; h < c.heads; ++h) {
            const float* pr = row.probs + h * n;
            const float level = 1.f / float(row.visible[h]);
            std::vector<int64_t> flagged;
            for (int64_t j = 0; j < n; ++j)
                if (c.in[size_t(h)][size_t(j)] && pr[j] < level) flagged.push_back(j);
            push(h, std::move(flagged));
            if (c.count[size_t(h)] <= c.budget) continue;
            const std::vector<int64_t> recent = c.newest(h, m_z.recent);
            const int64_t protectFrom = recent.empty() ? n : recent.front();
            std::vector<int64_t> cand;
            for (int64_t j = 0; j < protectFrom; ++j)
                if (c.in[size_t(h)][size_t(j)]) cand.push_back(j);
            // Largest u first; ties drop the older token.
            const std::vector<float>& u = m_u[size_t(h)];
            std::stable_sort(cand.begin(), cand.end(), [&](int64_t a, int64_t b) { return u[size_t(a)] > u[size_t(b)]; });
            for (size_t k = 0; k < cand.size() && int64_t(k) < m_z.drop; ++k) c.evict(h, cand[k], row.i);
        }
    }

private:
    void push(int h, std::vector<int64_t> flagged) {
        for (int64_t j : flagged) m_u[size_t(h)][size_t(j)] += 1.f;
        m_rows[size_t(h)].push_back(std::move(flagged));
        if (int64_t(m_rows[size_t(h)].size()) > m_z.history) {
            for (int64_t j : m_rows[size_t(h)].front()) m_u[size_t(h)][size_t(j)] -= 1.f;
            m_rows[size_t(h)].pop_front();
        }
    }

    Sizes m_z;
    std::vector<std::vector<float>> m_u;                    // [H][T] counts over the history
    std::vector<std::deque<std::vector<int64_t>>> m_rows;   // [H] flagged keys of each history row
};

}  // namespace

const KvPolicyEntry& scissorhandsPolicy() {
    static const KvPolicyEntry e{
        {"scissorhands", "Scissorhands: persistence of importance (rows below 1/t)",
         "§2.6; paper algorithm (arXiv 2305.17118), no official code", true, false,
         {{"window", -1, -1, 1e9, {}, "history w of attention rows; -1: budget/2 [RECON, third-party]", true},
          {"recent", -1, -1, 1e9, {}, "r most recent tokens protected; -1: budget/4 [RECON]", false},
          {"drop", -1, -1, 1e9, {}, "m tokens dropped when over budget (decode); -1: budget/2 [RECON]", false}}},
        perQueryHead,
        select,
        [](const KvInputs& in, const KvParams& p, const KvSelection&, int l) -> std::unique_ptr<DecodeLayer> {
            return std::make_unique<Decode>(in, p, l);
        }};
    return e;
}

}  // namespace attnscope::kv
