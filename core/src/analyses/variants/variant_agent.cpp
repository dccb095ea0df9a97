// agent: Agent Attention, reference A.5 (causal form [RECON]).
#include <limits>

#include "analyses/variants/variant_detail.h"

namespace attnscope::variants {
namespace {

// Agents a_m = the mean of q (or k) over block m = [mb, (m+1)b); agent m aggregates the keys
// j ≤ e_m = (m+1)b − 1: α_m = softmax_j(s a_m·k_j) [M, T]. Query i attends, in one softmax,
// to the agents complete before it (e_m < i: m < ⌊i/b⌋) and to the exact keys of its own
// block (local on) or to itself only (local off: no row is empty).
VariantTensors agent(const HeadTensors& in, const Params& p) {
    const double inf = std::numeric_limits<double>::infinity();
    const int64_t b = p.integer("b"), M = in.T / b;  // complete blocks
    const auto [q, k] = qkFor(in, p);
    const std::vector<at::Tensor>& agents = in.cached("agents", [&] {
        if (M == 0)
            return std::vector<at::Tensor>{at::zeros({0, q.size(1)}, at::kDouble), at::zeros({0, in.T}, at::kDouble)};
        const at::Tensor pooled = (p.choice("pool") == "mean_k" ? k : q).slice(0, 0, M * b).view({M, b, -1}).mean(1);
        const at::Tensor last = (at::arange(M, at::kLong) + 1) * b - 1;
        const at::Tensor seen = at::arange(in.T, at::kLong).unsqueeze(0) <= last.unsqueeze(1);  // j ≤ e_m
        const at::Tensor alpha = at::softmax((pooled.mm(k.t()) * in.scale).masked_fill(seen.logical_not(), -inf), 1);
        return std::vector<at::Tensor>{pooled, alpha};
    });
    const at::Tensor& A = agents[0];
    const at::Tensor& alpha = agents[1];
    const at::Tensor i = in.queryIndex(), j = in.keyIndex();
    const at::Tensor blockStart = i.div(b, "floor") * b;
    const at::Tensor local = p.choice("local") == "on" ? (j >= blockStart) & (j <= i) : (j == i);
    const at::Tensor sLocal = scores(in).masked_fill((local & in.visible).logical_not() & (j != i), -inf);
    const at::Tensor sAgents = (in.rowsOf(q).mm(A.t()) * in.scale)
                                   .masked_fill(at::arange(M, at::kLong).unsqueeze(0) >= i.div(b, "floor"), -inf);
    const at::Tensor pi = at::softmax(at::cat({sAgents, sLocal}, 1), 1);
    const at::Tensor piAgents = pi.slice(1, 0, M), piLocal = pi.slice(1, M, M + in.T);
    VariantTensors r = fromMap(piAgents.mm(alpha) + piLocal, in);
    return withCurve(std::move(r), piAgents.sum(1), "mass on agents");
}

}  // namespace

const VariantEntry& agentVariant() {
    static const VariantEntry e{
        {"agent",
         "Agent Attention",
         VariantFamily::Linear,
         "A few agent tokens (the mean query of each block of b tokens) first gather the values with softmax over "
         "the keys, then each query reads the agents with softmax: the map softmax(QAᵀ)·softmax(AKᵀ) has rank at most "
         "T/b, plus exact attention inside the query's own block. Shows how much of a head survives a low-rank "
         "bottleneck of pooled queries, and what happens to the sink when it is reached only through agents.",
         "reference A.5; Agent Attention, arXiv 2312.08873 [RECON causal form]",
         true,
         {ropeParam(0),
          {"b", 64, 1, 1e9, {}, "block size: one agent per complete block of b tokens (64)"},
          {"pool", 0, 0, 1, {"mean_q", "mean_k"}, "agents from the block's queries (the paper) or keys"},
          {"local", 0, 0, 1, {"on", "off"}, "exact keys of the query's own block (on) or only itself (off) [RECON]"}}},
        agent};
    return e;
}

}  // namespace attnscope::variants
