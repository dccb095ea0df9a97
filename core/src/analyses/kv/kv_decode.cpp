// Decode mode (reference §3.1: decode-time policies must be simulated step by step): after
// the prefill decision, token i joins the cache, query i attends to the survivors (the
// softmax renormalized over them), and the policy updates its scores from that row and
// evicts down to the budget. Two drivers: the traced q/k held fixed (no model), and the
// model itself one token at a time on its compressed cache (hidden states propagate).
#include <cmath>

#include "analyses/kv/kv_tensors.h"
#include "attnscope/error.h"
#include "model/model_access.h"

namespace attnscope {

using namespace kv;

namespace {

// Where row i's inputs live: keys (g, j) at base + g·sg + j·sj; oracle rows at base + h·sh.
struct Strided {
    const float* base = nullptr;
    int64_t sg = 0, sj = 0;
};

class DecodeRun {
public:
    DecodeRun(const KvInputs& in, const KvParams& p) : m_in(in), m_entry(entry(p.policy)) {
        if (!m_entry.decoder)
            fail(ErrorKind::Unsupported, p.policy + " decides once after the prefill (reference Part 2); use prefill mode");
        m_sel = selectKv(in, p);
        m_sel.mode = KvMode::Decode;
        const int64_t B = budgetOf(p), T = in.T;
        std::fill(m_sel.layerBudget.begin(), m_sel.layerBudget.end(), B);
        m_caches.resize(size_t(in.nLayers));
        for (int l = 0; l < in.nLayers; ++l) {
            DecodeCache& c = m_caches[size_t(l)];
            c.heads = m_sel.heads;
            c.T = T;
            c.budget = B;
            c.in.assign(size_t(c.heads), std::vector<uint8_t>(size_t(T), 0));
            c.count.assign(size_t(c.heads), 0);
            c.until = m_sel.until.data() + int64_t(l) * c.heads * T;
            for (int h = 0; h < c.heads; ++h)
                for (int64_t j : m_sel.kept[size_t(l)][size_t(h)]) {
                    c.in[size_t(h)][size_t(j)] = 1;
                    ++c.count[size_t(h)];
                }
            m_layers.push_back(m_entry.decoder(in, p, m_sel, l));
        }
    }

    void join(int64_t i) {
        for (DecodeCache& c : m_caches)
            for (int h = 0; h < c.heads; ++h) {
                c.in[size_t(h)][size_t(i)] = 1;
                ++c.count[size_t(h)];
            }
    }

    at::Tensor mask(int l, int64_t i) const {  // [heads, i+1] for the forward
        const DecodeCache& c = m_caches[size_t(l)];
        at::Tensor m = at::empty({c.heads, i + 1}, at::kByte);
        for (int h = 0; h < c.heads; ++h) std::copy_n(c.in[size_t(h)].data(), i + 1, m.data_ptr<uint8_t>() + h * (i + 1));
        return m.to(at::kBool);
    }

    // Row i of layer l from q [H, d] and the keys; `oracle` (rows [H] at base + h·sg) replaces
    // the renormalized row by the full-cache one.
    void step(int l, int64_t i, const float* q, const Strided& keys, const Strided* oracle) {
        const int H = m_in.nHeads, G = H / m_in.nKvHeads, d = m_in.headDim;
        const int64_t n = i + 1, lo = m_in.slidingWindow > 0 ? std::max<int64_t>(0, i - m_in.slidingWindow + 1) : 0;
        const double scale = m_in.tensors->scale;
        DecodeCache& c = m_caches[size_t(l)];
        m_probs.assign(size_t(H * n), 0.f);
        m_visible.assign(size_t(H), 0);
        m_norms.assign(size_t(m_in.nKvHeads), 0.f);
        for (int g = 0; g < m_in.nKvHeads; ++g) {
            const float* k = keys.base + g * keys.sg + i * keys.sj;
            double s = 0;
            for (int x = 0; x < d; ++x) s += double(k[x]) * k[x];
            m_norms[size_t(g)] = float(std::sqrt(s));
        }
        std::vector<double> z(static_cast<size_t>(n));
        for (int h = 0; h < H; ++h) {
            const std::vector<uint8_t>& in = c.in[size_t(m_sel.headOf(h))];
            float* out = m_probs.data() + int64_t(h) * n;
            if (oracle) {
                const float* row = oracle->base + h * oracle->sg;
                for (int64_t j = 0; j < n; ++j) out[j] = row[j];
                m_visible[size_t(h)] = n - lo;
                continue;
            }
            const float* qh = q + int64_t(h) * d;
            double mx = -INFINITY, sum = 0;
            for (int64_t j = lo; j < n; ++j) {
                if (!in[size_t(j)]) continue;
                const float* k = keys.base + (h / G) * keys.sg + j * keys.sj;
                double dot = 0;
                for (int x = 0; x < d; ++x) dot += double(qh[x]) * k[x];
                z[size_t(j)] = dot * scale;
                mx = std::max(mx, z[size_t(j)]);
                ++m_visible[size_t(h)];
            }
            for (int64_t j = lo; j < n; ++j)
                if (in[size_t(j)]) sum += std::exp(z[size_t(j)] - mx);
            for (int64_t j = lo; j < n; ++j)
                if (in[size_t(j)]) out[j] = float(std::exp(z[size_t(j)] - mx) / sum);
        }
        DecodeRow row;
        row.i = i;
        row.nHeads = H;
        row.nKvHeads = m_in.nKvHeads;
        row.probs = m_probs.data();
        row.visible = m_visible.data();
        row.newKeyNorm = m_norms.data();
        m_layers[size_t(l)]->step(row, c);
    }

    KvSelection finish() {
        for (int l = 0; l < m_in.nLayers; ++l)
            for (int h = 0; h < m_sel.heads; ++h) {
                std::vector<int64_t>& kept = m_sel.kept[size_t(l)][size_t(h)];
                kept.clear();
                for (int64_t j = 0; j < m_in.T; ++j)
                    if (m_caches[size_t(l)].in[size_t(h)][size_t(j)]) kept.push_back(j);
            }
        return m_sel;
    }

private:
    const KvInputs& m_in;
    const KvPolicyEntry& m_entry;
    KvSelection m_sel;
    std::vector<DecodeCache> m_caches;
    std::vector<std::unique_ptr<DecodeLayer>> m_layers;
    std::vector<float> m_probs, m_norms;
    std::vector<int64_t> m_visible;
};

at::Tensor idsTensor(const std::vector<int32_t>& ids, int64_t a, int64_t b, at::Device dev) {
    return at::tensor(std::vector<int64_t>(ids.begin() + a, ids.begin() + b), at::kLong).to(dev);
}

}  // namespace

KvSelection simulateKvDecodeFixed(const KvInputs& in, const KvParams& p, bool oracle) {
    if (!in.tensors) fail(ErrorKind::BadInput, "KV inputs without tensors");
    return guardTorch([&] {
        DecodeRun run(in, p);
        const KvEvictionTensors& t = *in.tensors;
        const int64_t Tp = in.promptLength, C = in.continuation(), d = in.headDim, T = in.T;
        std::vector<float> q(size_t(in.nHeads * d));
        for (int64_t i = Tp; i < T; ++i) {
            run.join(i);
            for (int l = 0; l < in.nLayers; ++l) {
                const float* qs = t.q[size_t(l)].data_ptr<float>();  // [H,C,d]
                for (int h = 0; h < in.nHeads; ++h)
                    std::copy(qs + (h * C + (i - Tp)) * d, qs + (h * C + (i - Tp) + 1) * d, q.begin() + h * d);
                const Strided keys{t.k[size_t(l)].data_ptr<float>(), T * d, d};
                const Strided rows{t.probs[size_t(l)].data_ptr<float>() + (i - Tp) * T, C * T, 0};
                run.step(l, i, q.data(), keys, oracle ? &rows : nullptr);
            }
        }
        return run.finish();
    });
}

KvSelection simulateKvDecode(const Model& model, const KvInputs& in, const KvParams& p, KvEndToEnd* e2e,
                             const JobControl& job) {
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const core::Decoder& dec = ModelAccess::impl(model).decoder;
        const int64_t Tp = in.promptLength, T = in.T;
        DecodeRun run(in, p);
        core::KvCache cache;
        core::ForwardRequest req;
        req.ids = idsTensor(in.ids, 0, Tp, dec.device());
        req.cache = &cache;
        req.allLogits = false;
        req.job.stop = job.stop;
        dec.forward(req);
        core::KvCache reference = cache;  // appends build new tensors: the copy stays intact
        TracePolicy qOnly{false, false, false, false, false, true};
        std::vector<at::Tensor> comp, full;
        for (int64_t i = Tp; i < T; ++i) {
            run.join(i);
            req.ids = idsTensor(in.ids, i, i + 1, dec.device());
            req.pos0 = i;
            req.trace = &qOnly;
            req.keyMask.clear();
            for (int l = 0; l < in.nLayers; ++l) req.keyMask.push_back(run.mask(l, i));
            core::ForwardResult r = dec.forward(req);
            comp.push_back(r.logits[0].to(at::kCPU));
            for (int l = 0; l < in.nLayers; ++l) {
                const at::Tensor q = r.layers[size_t(l)].q[0].to(at::kCPU, at::kFloat).contiguous();  // [H,d]
                const at::Tensor k = cache.k[size_t(l)].to(at::kCPU, at::kFloat).contiguous();        // [i+1,Hkv,d]
                run.step(l, i, q.data_ptr<float>(), {k.data_ptr<float>(), in.headDim, int64_t(in.nKvHeads) * in.headDim}, nullptr);
            }
            job.report(0.5 * double(i - Tp + 1) / double(T - Tp));
        }
        if (e2e) {
            core::ForwardRequest ref;
            ref.cache = &reference;
            ref.allLogits = false;
            ref.job.stop = job.stop;
            for (int64_t i = Tp; i < T; ++i) {
                ref.ids = idsTensor(in.ids, i, i + 1, dec.device());
                ref.pos0 = i;
                full.push_back(dec.forward(ref).logits[0].to(at::kCPU));
                job.report(0.5 + 0.5 * double(i - Tp + 1) / double(T - Tp));
            }
            *e2e = full.empty() ? KvEndToEnd{} : compareLogits(at::stack(full), at::stack(comp), in.ids, Tp);
        }
        return run.finish();
    });
}

}  // namespace attnscope
