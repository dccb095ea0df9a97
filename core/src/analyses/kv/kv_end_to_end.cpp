// End-to-end fidelity (reference §3.2) of a prefill decision: the prompt runs with the full
// cache, then the continuation (teacher-forced) attends to the compressed cache: evicted
// keys get −∞ logits at their original positions, ZipCache's prompt keys/values are
// quantized. The reference takes the same path uncompressed, so no compression means
// bit-identical logits.
#include <cmath>

#include "analyses/kv/kv_tensors.h"
#include "attnscope/error.h"
#include "model/model_access.h"

namespace attnscope {

using namespace kv;

KvEndToEnd kv::compareLogits(const at::Tensor& full, const at::Tensor& comp, const std::vector<int32_t>& ids,
                             int64_t Tp) {
    const at::Tensor lf = at::log_softmax(full.to(at::kDouble), -1), lc = at::log_softmax(comp.to(at::kDouble), -1);
    const int64_t C = full.size(0);
    KvEndToEnd e;
    e.steps = int(C);
    const at::Tensor kl = (at::exp(lf) * (lf - lc)).sum(-1).contiguous();
    const at::Tensor same = (full.argmax(-1) == comp.argmax(-1)).to(at::kByte).contiguous();
    e.stepKl.assign(kl.data_ptr<double>(), kl.data_ptr<double>() + C);
    e.stepTop1.assign(same.data_ptr<uint8_t>(), same.data_ptr<uint8_t>() + C);
    e.kl = kl.mean().item<double>();
    e.top1 = same.to(at::kDouble).mean().item<double>();
    double nllF = 0, nllC = 0;
    for (int64_t c = 0; c + 1 < C; ++c) {
        const int64_t next = ids[size_t(Tp + c + 1)];
        nllF -= lf[c][next].item<double>();
        nllC -= lc[c][next].item<double>();
    }
    e.pplFull = C > 1 ? std::exp(nllF / double(C - 1)) : 0.0;
    e.ppl = C > 1 ? std::exp(nllC / double(C - 1)) : 0.0;
    return e;
}

KvEndToEnd kvEndToEnd(const Model& model, const KvInputs& in, const KvSelection& sel, const JobControl& job) {
    if (sel.T != in.T || sel.promptLength != in.promptLength) fail(ErrorKind::BadInput, "the selection was made on other KV inputs");
    if (sel.mode != KvMode::Prefill) fail(ErrorKind::BadInput, "kvEndToEnd re-runs prefill decisions; decode mode has simulateKvDecode");
    const int64_t Tp = in.promptLength, T = in.T;
    if (T == Tp) return {};
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const core::Decoder& dec = ModelAccess::impl(model).decoder;
        auto ids = [&](int64_t a, int64_t b) {
            return at::tensor(std::vector<int64_t>(in.ids.begin() + a, in.ids.begin() + b), at::kLong).to(dec.device());
        };
        core::KvCache prompt;
        core::ForwardRequest req;
        req.ids = ids(0, Tp);
        req.cache = &prompt;
        req.allLogits = false;
        req.job.stop = job.stop;
        dec.forward(req);
        job.report(0.4);
        req.ids = ids(Tp, T);
        req.pos0 = Tp;
        req.allLogits = true;
        core::KvCache cache = prompt;  // appends build new tensors: `prompt` stays intact
        req.cache = &cache;
        const at::Tensor full = dec.forward(req).logits.to(at::kCPU);
        job.report(0.7);
        cache = prompt;
        if (sel.precision) {
            for (int l = 0; l < in.nLayers; ++l) {
                at::Tensor k = cache.k[size_t(l)].to(at::kCPU, at::kFloat).clone(), v = cache.v[size_t(l)].to(at::kCPU, at::kFloat).clone();
                zipQuantize(k, v, sel, l, sel.highBits, sel.lowBits);
                cache.k[size_t(l)] = k.to(dec.device(), dec.dtype());
                cache.v[size_t(l)] = v.to(dec.device(), dec.dtype());
            }
        } else {
            for (int l = 0; l < in.nLayers; ++l) {
                const at::Tensor until = at::from_blob(const_cast<int64_t*>(sel.until.data()) + int64_t(l) * sel.heads * T,
                                                       {sel.heads, T}, at::kLong);
                req.keyMask.push_back(until > Tp);  // prefill decisions: until is T_p (evicted) or never
            }
        }
        const at::Tensor comp = dec.forward(req).logits.to(at::kCPU);
        job.report(1.0);
        return compareLogits(full, comp, in.ids, Tp);
    });
}

}  // namespace attnscope
