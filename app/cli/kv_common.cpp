#include "kv_common.h"

#include <cstdio>
#include <sstream>

#include "attnscope/error.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

std::vector<std::string> splitList(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

// Sets `name` from its text: a number, or one of the parameter's choices.
void setParam(KvParams& p, const std::string& name, const std::string& text) {
    const KvPolicyInfo& info = kvPolicy(p.policy);
    for (const KvParamSpec& s : info.params) {
        if (s.name != name) continue;
        for (size_t c = 0; c < s.choices.size(); ++c)
            if (s.choices[c] == text) {
                p.values[name] = double(c);
                return;
            }
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end) fail(ErrorKind::BadInput, "--" + name + " expects a number or a choice, got '" + text + "'");
        p.values[name] = v;
        p.get(name);  // range check
        return;
    }
    fail(ErrorKind::BadInput, "policy " + p.policy + " has no parameter '" + name + "'");
}

}  // namespace

const std::vector<std::string>& kvPolicyOptions() {
    static const std::vector<std::string> options = {"window", "kernel", "pool", "sink", "recent", "heavy", "gqa",
                                                     "drop", "beta", "seed", "low_ratio", "high_bits", "low_bits"};
    return options;
}

std::set<std::string> kvValuedOptions() {
    auto v = kModelOptions;
    for (const std::string& o : kvPolicyOptions()) v.insert("--" + o);
    v.insert({"--policy", "--budget", "--mode", "--continuation-file", "--continuation", "--param", "--policies",
              "--budgets", "--csv"});
    return v;
}

KvParams kvParamsFrom(const CliArgs& a, const std::string& policy, int64_t budget, bool strict) {
    KvParams p;
    p.policy = policy;
    p.budget = budget;
    p.mode = parseKvMode(a.str("--mode", "prefill"));
    const KvPolicyInfo& info = kvPolicy(policy);
    auto has = [&](const std::string& n) {
        for (const KvParamSpec& s : info.params)
            if (s.name == n) return true;
        return false;
    };
    for (const std::string& o : kvPolicyOptions()) {
        if (!a.has("--" + o)) continue;
        if (!has(o)) {
            if (strict) fail(ErrorKind::BadInput, "policy " + policy + " has no --" + o);
            continue;
        }
        setParam(p, o, a.str("--" + o));
    }
    for (const std::string& kv : splitList(a.str("--param"))) {  // --param name=value,name=value
        const size_t eq = kv.find('=');
        if (eq == std::string::npos) fail(ErrorKind::BadInput, "--param expects name=value, got '" + kv + "'");
        if (strict || has(kv.substr(0, eq))) setParam(p, kv.substr(0, eq), kv.substr(eq + 1));
    }
    return p;
}

std::vector<std::string> kvPolicyList(const std::string& spec) {
    std::vector<std::string> policies = splitList(spec);
    if (policies.size() == 1 && policies[0] == "all") {
        policies.clear();
        for (const KvPolicyInfo& i : kvPolicies()) policies.push_back(i.name);
    }
    for (const std::string& p : policies) kvPolicy(p);  // unknown names: a clear error now
    return policies;
}

std::vector<int64_t> kvBudgetList(const std::string& spec) {
    std::vector<int64_t> budgets;
    for (const std::string& b : splitList(spec)) {
        size_t used = 0;
        int64_t v = 0;
        try {
            v = std::stoll(b, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != b.size() || v < 1) fail(ErrorKind::BadInput, "budgets must be comma-separated integers >= 1, got '" + b + "'");
        budgets.push_back(v);
    }
    return budgets;
}

KvRun kvPrepare(Model& model, std::vector<int32_t> prompt, const CliArgs& a, const std::vector<KvParams>& params) {
    KvRun r;
    r.promptLength = int64_t(prompt.size());
    std::vector<int32_t> cont;
    if (a.has("--continuation-file")) {
        cont = model.tokenize(readTextFile(a.str("--continuation-file")), false);
    } else {
        const int n = a.integer("--continuation", 32);
        if (n < 0) fail(ErrorKind::BadInput, "--continuation must be >= 0");
        cont = model.generate(prompt, n, false).tokens;
    }
    r.ids = std::move(prompt);
    r.ids.insert(r.ids.end(), cont.begin(), cont.end());
    RunOptions ro;
    ro.trace.keepMlp = ro.trace.keepLogits = false;
    auto trace = model.run(r.ids, ro);
    r.inputs = computeKvInputs(model, *trace, kvInputOptionsFor(params, r.promptLength));
    return r;
}

KvOutcome kvEvaluate(const Model& model, const KvRun& r, const KvParams& p) {
    KvOutcome o;
    if (p.mode == KvMode::Decode) {
        o.selection = simulateKvDecode(model, r.inputs, p, &o.e2e);
    } else {
        o.selection = selectKv(r.inputs, p);
        o.e2e = kvEndToEnd(model, r.inputs, o.selection);
    }
    o.local = kvLocalMetrics(r.inputs, o.selection);
    return o;
}

std::vector<KvSweepEntry> kvSweep(const Model& model, const KvRun& r, const std::vector<KvParams>& params) {
    std::vector<KvSweepEntry> out;
    for (const KvParams& p : params) {
        KvOutcome o;
        try {
            o = kvEvaluate(model, r, p);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Unsupported) throw;
            std::fprintf(stderr, "kv-sweep: skipping %s: %s\n", p.policy.c_str(), e.what());
            continue;
        }
        out.push_back({p, o.selection.granularity, o.e2e, o.local.retainedMass, o.local.outputRelErr});
    }
    return out;
}

}  // namespace attnscope::app
