// What the KV verbs (kv, kv-sweep) and the session's KV section share: policy options from
// the command line, the traced prompt + continuation with its KV inputs, one evaluation.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "attnscope/analyses/kv.h"
#include "attnscope/model.h"
#include "cli_args.h"

namespace attnscope::app {

// Policy parameters settable as CLI options of the same name (--window, --gqa, ...).
// Functions, not globals: other translation units' statics read them.
const std::vector<std::string>& kvPolicyOptions();
std::set<std::string> kvValuedOptions();  // model options + policy options + the KV verbs' own

// Options given on the command line; `strict`: an option the policy lacks is an error
// (kv), else it is skipped (kv-sweep applies shared options where they exist).
KvParams kvParamsFrom(const CliArgs& a, const std::string& policy, int64_t budget, bool strict);
std::vector<std::string> kvPolicyList(const std::string& spec);  // "a,b" or "all" (registry order)
std::vector<int64_t> kvBudgetList(const std::string& spec);      // "16,32,64"

struct KvRun {
    int64_t promptLength = 0;
    std::vector<int32_t> ids;  // prompt + continuation
    KvInputs inputs;
};
// The prompt + its continuation (--continuation-file text, else the full-cache greedy
// --continuation N tokens, 32 by default), one traced run, and inputs covering `params`.
KvRun kvPrepare(Model& model, std::vector<int32_t> prompt, const CliArgs& a, const std::vector<KvParams>& params);

struct KvOutcome {
    KvSelection selection;
    KvLocalMetrics local;
    KvEndToEnd e2e;
};
// The decision (decode: simulated through the model), local metrics and end-to-end run.
KvOutcome kvEvaluate(const Model& model, const KvRun& r, const KvParams& p);

// One point of a budget sweep.
struct KvSweepEntry {
    KvParams params;
    KvGranularity granularity = KvGranularity::Layer;
    KvEndToEnd e2e;
    double retainedMass = 1, outputRelErr = 0;  // local means
};
// Every parameter set in order; a policy that cannot run on this model (Unsupported) is
// skipped with a note on stderr.
std::vector<KvSweepEntry> kvSweep(const Model& model, const KvRun& r, const std::vector<KvParams>& params);

}  // namespace attnscope::app
