// logitLens (attnscope/analyses/interventions.h, reference §F.5): every layer's residual
// stream read through the model's final norm and unembedding.
#include <algorithm>

#include "analyses/interventions/interventions_detail.h"
#include "attnscope/analyses/interventions.h"
#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "model/model_access.h"
#include "model/model_impl.h"
#include "trace/trace_impl.h"

namespace attnscope {

LogitLens logitLens(Model& model, const std::vector<int32_t>& ids, const LogitLensParams& params,
                    const JobControl& job) {
    return guardTorch([&] {
        using namespace interventions;
        const core::Decoder& dec = ModelAccess::impl(model).decoder;
        const core::ModelConfig& c = dec.config();
        if (params.topK < 1 || params.topK > 100) fail(ErrorKind::BadInput, "logit lens: top-k must be 1..100");
        if (params.target >= c.vocabSize)
            fail(ErrorKind::BadInput, "logit lens: the target is not a token id of the vocabulary");
        TracePolicy policy;
        policy.keepPreRope = policy.keepValues = policy.keepMlp = policy.keepQk = false;
        policy.keepResidual = policy.keepLogits = true;
        const Run run = hookedRun(model, ids, {}, &policy, job.part(0, 0.2));
        const auto* ti = dynamic_cast<const core::TraceImpl*>(run.trace.get());
        const int64_t T = int64_t(ids.size());
        const int K = std::min(params.topK, c.vocabSize);
        LogitLens lens;
        lens.nLayers = c.nLayers;
        lens.T = T;
        lens.topK = K;
        lens.target = params.target;
        const at::Tensor finalLog = at::log_softmax(run.logits.to(at::kDouble), -1);  // [T, V]
        const at::Tensor finalTop = finalLog.argmax(1, true);                         // [T, 1]
        at::NoGradGuard noGrad;
        for (int l = 0; l < c.nLayers; ++l) {
            job.check();
            const at::Tensor logits = dec.unembed(ti->layer(l).residOut).to(at::kCPU, at::kDouble);
            const at::Tensor lp = at::log_softmax(logits, -1);
            const at::Tensor kl = (finalLog.exp() * (finalLog - lp)).sum(1).to(at::kFloat).contiguous();
            lens.klToFinal.insert(lens.klToFinal.end(), kl.data_ptr<float>(), kl.data_ptr<float>() + T);
            // Rank of a token = the number of tokens strictly more probable.
            auto rankOf = [&](const at::Tensor& idx) {
                const at::Tensor own = lp.gather(1, idx);
                return (lp > own).sum(1).to(at::kInt).contiguous();
            };
            const at::Tensor fr = rankOf(finalTop);
            lens.finalRank.insert(lens.finalRank.end(), fr.data_ptr<int32_t>(), fr.data_ptr<int32_t>() + T);
            const auto [vals, idx] = at::topk(lp, K, 1);
            const at::Tensor probs = vals.exp().to(at::kFloat).contiguous(), ids32 = idx.to(at::kInt).contiguous();
            lens.topProb.insert(lens.topProb.end(), probs.data_ptr<float>(), probs.data_ptr<float>() + T * K);
            lens.top.insert(lens.top.end(), ids32.data_ptr<int32_t>(), ids32.data_ptr<int32_t>() + T * K);
            if (params.target >= 0) {
                const at::Tensor t = at::full({T, 1}, int64_t(params.target), at::kLong);
                const at::Tensor p = lp.gather(1, t).exp().squeeze(1).to(at::kFloat).contiguous();
                lens.targetProb.insert(lens.targetProb.end(), p.data_ptr<float>(), p.data_ptr<float>() + T);
                const at::Tensor rk = rankOf(t);
                lens.targetRank.insert(lens.targetRank.end(), rk.data_ptr<int32_t>(), rk.data_ptr<int32_t>() + T);
            }
            job.report(0.2 + 0.8 * double(l + 1) / c.nLayers);
        }
        if (const Tokenizer* tok = model.tokenizer()) {
            for (int32_t id : lens.top) lens.pieces.emplace(id, tok->piece(id));
            if (lens.target >= 0) lens.pieces.emplace(lens.target, tok->piece(lens.target));
        }
        return lens;
    });
}

}  // namespace attnscope
