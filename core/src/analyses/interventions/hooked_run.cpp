// One forward with intervention hooks (interventions_detail.h).
#include "analyses/interventions/interventions_detail.h"

#include "attnscope/error.h"
#include "model/model_access.h"
#include "trace/trace_impl.h"

namespace attnscope::interventions {

const core::ModelConfig& configOf(Model& model) { return ModelAccess::impl(model).decoder.config(); }

void checkLayer(const core::ModelConfig& c, int layer, const char* what) {
    if (layer < 0 || layer >= c.nLayers)
        fail(ErrorKind::BadInput, std::string(what) + ": layer " + std::to_string(layer) +
                                      " out of range (the model has " + std::to_string(c.nLayers) + ")");
}

Run hookedRun(Model& model, const std::vector<int32_t>& ids, const Hooks& hooks, const TracePolicy* policy,
              const JobControl& job) {
    const core::Decoder& dec = ModelAccess::impl(model).decoder;
    const core::ModelConfig& c = dec.config();
    if (ids.empty()) fail(ErrorKind::BadInput, "the prompt is empty");
    if (int64_t(ids.size()) > c.contextLength)
        fail(ErrorKind::BadInput, "the prompt has " + std::to_string(ids.size()) + " tokens; the model's context is " +
                                      std::to_string(c.contextLength));
    for (int32_t id : ids)
        if (id < 0 || id >= c.vocabSize)
            fail(ErrorKind::BadInput,
                 "token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(c.vocabSize));
    core::ForwardRequest req;
    req.ids = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).to(dec.device());
    req.allLogits = true;
    req.trace = policy;
    req.job.stop = job.stop;
    req.attentionOverride = hooks.attention;
    req.attnOutOverride = hooks.attnOut;
    req.mlpOverride = hooks.mlp;
    req.residOverride = hooks.resid;
    core::ForwardResult r = dec.forward(req);
    Run out;
    out.logits = r.logits.to(at::kCPU, at::kFloat);
    if (policy) out.trace = std::make_unique<core::TraceImpl>(c, ids, std::move(r));
    return out;
}

TracePolicy sinkTracePolicy() {
    TracePolicy p;
    p.keepPreRope = p.keepValues = false;
    p.keepResidual = p.keepMlp = p.keepQk = p.keepLogits = true;
    return p;
}

at::Tensor klRows(const at::Tensor& a, const at::Tensor& b) {
    const at::Tensor la = at::log_softmax(a.to(at::kDouble), -1), lb = at::log_softmax(b.to(at::kDouble), -1);
    return (la.exp() * (la - lb)).sum(-1);
}

}  // namespace attnscope::interventions
