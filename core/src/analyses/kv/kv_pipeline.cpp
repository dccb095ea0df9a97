// The KV lab's pipeline (kv.h, "the lab's pipeline"): what the Inspector calls for the GUI's
// KV dock, the CLI's kv / kv-sweep verbs and the session's KV section alike.
#include <algorithm>

#include "attnscope/analyses/kv.h"
#include "attnscope/error.h"
#include "attnscope/model.h"
#include "attnscope/trace.h"

namespace attnscope {

KvPrepared prepareKv(Model& model, const std::vector<int32_t>& prompt, const KvContinuation& c,
                     const std::vector<KvParams>& cover, const JobControl& job) {
    if (prompt.empty()) fail(ErrorKind::BadInput, "The prompt is empty");
    if (c.tokens < 0) fail(ErrorKind::BadInput, "the continuation length must be >= 0");
    KvPrepared out;
    out.ids = prompt;
    const int64_t T = int64_t(prompt.size());
    const int64_t room = int64_t(model.info().contextLength) - T;
    out.promptLength = T;
    if (!c.given.empty()) {
        out.ids.insert(out.ids.end(), c.given.begin(), c.given.end());
        out.note = "the given continuation of " + std::to_string(c.given.size()) + " tokens";
    } else if (c.greedy && room > 0) {
        const int n = int(std::min<int64_t>(c.tokens, room));
        const std::vector<int32_t> cont = model.generate(prompt, n, false, job.stop).tokens;
        out.ids.insert(out.ids.end(), cont.begin(), cont.end());
        out.note = "greedy continuation of " + std::to_string(cont.size()) + " tokens";
    } else {
        out.promptLength = std::max<int64_t>(1, T - c.tokens);
        if (T <= out.promptLength) fail(ErrorKind::BadInput, "The prompt needs at least 2 tokens");
        out.note = c.greedy ? "the prompt fills the context: its last " + std::to_string(T - out.promptLength) +
                                  " tokens are the continuation"
                            : "the run's last " + std::to_string(T - out.promptLength) + " tokens are the continuation";
    }
    job.check();
    RunOptions ro;
    ro.trace.keepMlp = ro.trace.keepLogits = false;
    ro.job.stop = job.stop;
    const std::unique_ptr<Trace> trace = model.run(out.ids, ro);
    out.inputs =
        std::make_shared<const KvInputs>(computeKvInputs(model, *trace, kvInputOptionsFor(cover, out.promptLength), job));
    return out;
}

KvOutcome evaluateKv(const Model& model, const KvInputs& inputs, const KvParams& p, const JobControl& job) {
    KvOutcome o;
    if (p.mode == KvMode::Decode) {
        o.selection = simulateKvDecode(model, inputs, p, &o.e2e, job);
    } else {
        o.selection = selectKv(inputs, p);
        o.e2e = kvEndToEnd(model, inputs, o.selection, job);
    }
    o.local = kvLocalMetrics(inputs, o.selection);
    return o;
}

KvOutcome evaluateKvLocal(const KvInputs& inputs, const KvParams& p) {
    KvOutcome o;
    o.selection = p.mode == KvMode::Decode ? simulateKvDecodeFixed(inputs, p) : selectKv(inputs, p);
    o.local = kvLocalMetrics(inputs, o.selection);
    return o;
}

std::vector<KvSweepRow> sweepKv(const Model& model, const KvInputs& inputs, const std::vector<KvParams>& params,
                                const JobControl& job, std::vector<std::string>* skipped) {
    std::vector<KvSweepRow> out;
    const size_t n = params.size();
    for (size_t i = 0; i < n; ++i) {
        job.check();
        const KvParams& p = params[i];
        KvOutcome o;
        try {
            o = evaluateKv(model, inputs, p, job.part(double(i) / double(n), double(i + 1) / double(n)));
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Unsupported) throw;
            if (skipped) skipped->push_back(p.policy + ": " + e.what());
            continue;
        }
        out.push_back({p.policy, p.budget, o.e2e.kl, o.e2e.top1, o.e2e.ppl, o.e2e.pplFull, o.local.retainedMass,
                       o.local.outputRelErr, p.mode, o.selection.granularity});
    }
    return out;
}

std::vector<KvParams> kvCoverage(const KvParams& current, const KvParams* compare) {
    std::vector<KvParams> all{current};
    for (const KvPolicyInfo& p : kvPolicies()) all.push_back({p.name, current.budget, KvMode::Prefill, {}});
    if (compare) all.push_back(*compare);
    return all;
}

}  // namespace attnscope
