// Local fidelity (reference §3.1), hidden states fixed to the full-cache run: for every
// continuation query, ρ = Σ_{j∈S} p_j, ô = Σ_{j∈S} p_j v_j / ρ (the softmax over the
// survivors), its error against o, and the error written to the residual stream via W_O.
#include <cmath>
#include <limits>

#include "analyses/kv/kv_tensors.h"
#include "attnscope/error.h"
#include "model/model_impl.h"

namespace attnscope {

using namespace kv;

namespace {

// Visibility of keys to the continuation queries, per query head: [H, C or 1, T] float.
// Prefill decisions are the same for every continuation query (until is T_p or never), so
// they broadcast; decode decisions differ per query.
at::Tensor visibility(const KvSelection& sel, int l, int64_t C) {
    const int64_t T = sel.T, Tp = sel.promptLength;
    const int64_t* u = sel.until.data() + int64_t(l) * sel.heads * T;
    const bool perQuery = sel.mode == KvMode::Decode;
    at::Tensor vis = at::empty({sel.heads, perQuery ? C : 1, T}, at::kFloat);
    float* v = vis.data_ptr<float>();
    for (int h = 0; h < sel.heads; ++h)
        for (int64_t c = 0; c < (perQuery ? C : 1); ++c, v += T)
            for (int64_t j = 0; j < T; ++j) v[j] = u[h * T + j] > Tp + c ? 1.f : 0.f;
    if (sel.heads != sel.nHeads) vis = vis.repeat_interleave(sel.nHeads / sel.heads, 0);
    return vis;
}

// Outputs ô [H, C, d] and ρ [H, C] of layer l under the selection.
std::pair<at::Tensor, at::Tensor> compressed(const KvInputs& in, const KvSelection& sel, int l) {
    const KvEvictionTensors& t = *in.tensors;
    const int64_t H = in.nHeads, Hkv = in.nKvHeads, G = H / Hkv, C = in.continuation(), T = in.T, Tp = in.promptLength;
    if (sel.precision) {
        // ZipCache: nothing evicted; the continuation attends to quantized prompt keys/values.
        at::Tensor k = t.k[size_t(l)].permute({1, 0, 2}).clone(), v = t.v[size_t(l)].permute({1, 0, 2}).clone();  // [T,Hkv,d]
        zipQuantize(k, v, sel, l, sel.highBits, sel.lowBits);
        const at::Tensor kk = k.permute({1, 0, 2}), vv = v.permute({1, 0, 2});  // [Hkv,T,d]
        at::Tensor s = at::matmul(t.q[size_t(l)].reshape({Hkv, G * C, -1}), kk.transpose(1, 2)).mul_(t.scale);  // [Hkv,G*C,T]
        const at::Tensor qp = at::arange(Tp, Tp + C, at::kLong).unsqueeze(1), kp = at::arange(T, at::kLong).unsqueeze(0);
        at::Tensor visible = kp <= qp;
        if (in.slidingWindow > 0) visible = visible.logical_and(qp - kp < in.slidingWindow);
        s = s.view({Hkv, G, C, T}).masked_fill(visible.logical_not(), -std::numeric_limits<float>::infinity());
        const at::Tensor p = at::softmax(s, -1).reshape({Hkv, G * C, T});
        return {at::matmul(p, vv).reshape({H, C, -1}), at::ones({H, C})};
    }
    const at::Tensor pk = t.probs[size_t(l)] * visibility(sel, l, C);  // [H,C,T]
    const at::Tensor rho = pk.sum(-1);
    const at::Tensor u = at::matmul(pk.reshape({Hkv, G * C, T}), t.v[size_t(l)]).reshape({H, C, -1});
    return {u / rho.unsqueeze(-1), rho};
}

double meanOf(const at::Tensor& x) { return x.numel() ? x.to(at::kDouble).mean().item<double>() : 0.0; }

std::vector<float> perHead(const at::Tensor& x) {  // [H, C] → [H]
    const at::Tensor m = x.mean(1).contiguous();
    return std::vector<float>(m.data_ptr<float>(), m.data_ptr<float>() + m.numel());
}

}  // namespace

KvLocalMetrics kvLocalMetrics(const KvInputs& in, const KvSelection& sel) {
    if (!in.tensors) fail(ErrorKind::BadInput, "KV inputs without tensors");
    if (sel.T != in.T || sel.promptLength != in.promptLength || sel.nLayers != in.nLayers)
        fail(ErrorKind::BadInput, "the selection was made on other KV inputs");
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const KvEvictionTensors& t = *in.tensors;
        KvLocalMetrics m;
        m.queries = in.continuation();
        if (m.queries == 0) return m;
        m.retainedMass = 0;
        for (int l = 0; l < in.nLayers; ++l) {
            auto [oHat, rho] = compressed(in, sel, l);
            const at::Tensor& o = t.out[size_t(l)];
            const at::Tensor diff = oHat - o;                                     // [H,C,d]
            const at::Tensor rel = diff.norm(2, -1) / o.norm(2, -1).clamp_min(1e-30);
            KvLayerMetrics y;
            y.retainedMass = meanOf(rho);
            y.outputRelErr = meanOf(rel);
            y.headRetainedMass = perHead(rho);
            y.headOutputRelErr = perHead(rel);
            if (!t.wo.empty()) {
                const at::Tensor r = at::matmul(diff, t.wo[size_t(l)].transpose(1, 2));  // [H,C,D]
                const at::Tensor re = r.norm(2, -1);
                y.residErr = meanOf(re);
                y.headResidErr = perHead(re);
                if (!t.residNorm.empty())
                    y.layerRelErr = meanOf(r.sum(0).norm(2, -1) / t.residNorm[size_t(l)].clamp_min(1e-30));
            }
            m.retainedMass += y.retainedMass / in.nLayers;
            m.outputRelErr += y.outputRelErr / in.nLayers;
            m.layers.push_back(std::move(y));
        }
        return m;
    });
}

KvHeadOutputs kvHeadOutputs(const KvInputs& in, const KvSelection& sel, int l, int h, int64_t query) {
    if (l < 0 || l >= in.nLayers || h < 0 || h >= in.nHeads || query < in.promptLength || query >= in.T)
        fail(ErrorKind::BadInput, "kvHeadOutputs: layer, head or query out of range");
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const KvEvictionTensors& t = *in.tensors;
        const int64_t c = query - in.promptLength, g = h / (in.nHeads / in.nKvHeads);
        const at::Tensor p = t.probs[size_t(l)][h][c].to(at::kDouble);        // [T]
        const at::Tensor vr = visibility(sel, l, in.continuation())[h];
        const at::Tensor vis = vr[vr.size(0) > 1 ? c : 0].to(at::kDouble);
        const at::Tensor v = t.v[size_t(l)][g].to(at::kDouble);               // [T,d]
        const at::Tensor pk = p * vis, pe = p * (1 - vis);
        const double rho = pk.sum().item<double>();
        auto vec = [](const at::Tensor& x) {
            const at::Tensor f = x.to(at::kFloat).contiguous();
            return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
        };
        KvHeadOutputs r;
        r.rho = rho;
        r.o = vec(at::matmul(p, v));
        r.oHat = vec(at::matmul(pk, v) / rho);
        r.oEvicted = rho < 1 ? vec(at::matmul(pe, v) / (1 - rho)) : std::vector<float>(size_t(in.headDim), 0.f);
        return r;
    });
}

}  // namespace attnscope
