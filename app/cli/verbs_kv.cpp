// The KV-cache eviction verbs (issue 6): `kv` shows one policy's decisions and their cost,
// `kv-sweep` tabulates fidelity over policies x budgets.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "attnscope/analyses/kv.h"
#include "attnscope/error.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

// CLI options that map onto policy parameters of the same name.
const std::vector<std::string> kPolicyOptions = {"window", "kernel", "pool", "sink", "recent", "heavy", "gqa", "drop",
                                                 "beta", "seed", "low_ratio", "high_bits", "low_bits"};

std::vector<std::string> splitList(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

std::set<std::string> valuedOptions() {
    auto v = kModelOptions;
    for (const std::string& o : kPolicyOptions) v.insert("--" + o);
    v.insert({"--policy", "--budget", "--mode", "--continuation-file", "--continuation", "--param", "--policies",
              "--budgets", "--csv"});
    return v;
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

// Options given on the command line; `strict`: an option the policy lacks is an error
// (kv), else it is skipped (kv-sweep applies shared options where they exist).
KvParams paramsFrom(const CliArgs& a, const std::string& policy, int64_t budget, bool strict) {
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
    for (const std::string& o : kPolicyOptions) {
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

struct Prepared {
    std::unique_ptr<Model> model;
    int64_t promptLength = 0;
    KvInputs inputs;
};

// Prompt + continuation (a text, or the full-cache greedy continuation), one traced run,
// and the KV inputs that cover every parameter set.
Prepared prepare(const CliArgs& a, const std::vector<KvParams>& params) {
    Prepared r;
    r.model = openModel(a);
    std::vector<int32_t> ids = promptIds(a, *r.model);
    r.promptLength = int64_t(ids.size());
    std::vector<int32_t> cont;
    if (a.has("--continuation-file")) {
        cont = r.model->tokenize(readTextFile(a.str("--continuation-file")), false);
    } else {
        const int n = a.integer("--continuation", 32);
        if (n < 0) fail(ErrorKind::BadInput, "--continuation must be >= 0");
        cont = r.model->generate(ids, n, false).tokens;
    }
    ids.insert(ids.end(), cont.begin(), cont.end());
    RunOptions ro;
    ro.trace.keepMlp = ro.trace.keepLogits = false;
    auto trace = r.model->run(ids, ro);
    std::vector<KvParams> all = params;
    r.inputs = computeKvInputs(*r.model, *trace, kvInputOptionsFor(all, r.promptLength));
    return r;
}

struct Outcome {
    KvSelection selection;
    KvLocalMetrics local;
    KvEndToEnd e2e;
};

Outcome evaluate(const Prepared& r, const KvParams& p) {
    Outcome o;
    if (p.mode == KvMode::Decode) {
        o.selection = simulateKvDecode(*r.model, r.inputs, p, &o.e2e);
    } else {
        o.selection = selectKv(r.inputs, p);
        o.e2e = kvEndToEnd(*r.model, r.inputs, o.selection);
    }
    o.local = kvLocalMetrics(r.inputs, o.selection);
    return o;
}

nlohmann::json toJson(const KvParams& p, const Prepared& r, const Outcome& o) {
    nlohmann::json j;
    j["policy"] = p.policy;
    j["granularity"] = kvGranularityName(o.selection.granularity);
    j["mode"] = kvModeName(p.mode);
    j["budget"] = p.budget;
    j["precision_split"] = o.selection.precision;
    j["prompt_tokens"] = r.promptLength;
    j["continuation_tokens"] = r.inputs.continuation();
    nlohmann::json params = nlohmann::json::object();
    for (const KvParamSpec& s : kvPolicy(p.policy).params)
        params[s.name] = s.choices.empty() ? nlohmann::json(p.get(s.name)) : nlohmann::json(p.choice(s.name));
    j["params"] = params;
    j["layers"] = nlohmann::json::array();
    for (int l = 0; l < o.selection.nLayers; ++l) {
        nlohmann::json heads = nlohmann::json::array();
        for (const auto& kept : o.selection.kept[size_t(l)]) heads.push_back({{"kept", kept}});
        j["layers"].push_back({{"budget", o.selection.layerBudget[size_t(l)]}, {"heads", heads}});
    }
    nlohmann::json m = {{"kl", o.e2e.kl},
                        {"top1", o.e2e.top1},
                        {"ppl", o.e2e.ppl},
                        {"ppl_full", o.e2e.pplFull},
                        {"steps", o.e2e.steps},
                        {"retained_mass", o.local.retainedMass},
                        {"output_rel_err", o.local.outputRelErr}};
    m["layers"] = nlohmann::json::array();
    for (const KvLayerMetrics& y : o.local.layers)
        m["layers"].push_back({{"retained_mass", y.retainedMass},
                               {"output_rel_err", y.outputRelErr},
                               {"resid_err", y.residErr},
                               {"layer_rel_err", y.layerRelErr},
                               {"head_retained_mass", y.headRetainedMass},
                               {"head_output_rel_err", y.headOutputRelErr}});
    j["metrics"] = m;
    return j;
}

}  // namespace

int verbKv(const std::vector<std::string>& argv) {
    const CliArgs a(argv, valuedOptions(), kModelFlags);
    if (!a.has("--policy") || !a.has("--budget")) fail(ErrorKind::BadInput, "kv needs --policy NAME and --budget B");
    const KvParams p = paramsFrom(a, a.str("--policy"), a.integer64("--budget", 0), true);
    const Prepared r = prepare(a, {p});
    const Outcome o = evaluate(r, p);
    if (a.has("--json")) {
        std::cout << toJson(p, r, o).dump(-1) << "\n";
        return 0;
    }
    std::printf("%s, budget %lld, %s mode, %s granularity; prompt %lld tokens, continuation %lld\n", p.policy.c_str(),
                (long long)p.budget, kvModeName(p.mode), kvGranularityName(o.selection.granularity),
                (long long)r.promptLength, (long long)r.inputs.continuation());
    std::printf("end to end: KL %.5f  top-1 %.3f  ppl %.3f (full cache %.3f)\n", o.e2e.kl, o.e2e.top1, o.e2e.ppl,
                o.e2e.pplFull);
    std::printf("layer  kept/head  retained  out rel err  resid err\n");
    for (int l = 0; l < o.selection.nLayers; ++l) {
        const KvLayerMetrics& y = o.local.layers.empty() ? KvLayerMetrics{} : o.local.layers[size_t(l)];
        std::printf("%5d  %9zu  %8.4f  %11.4f  %9.4f\n", l, o.selection.kept[size_t(l)][0].size(), y.retainedMass,
                    y.outputRelErr, y.residErr);
    }
    return 0;
}

int verbKvSweep(const std::vector<std::string>& argv) {
    const CliArgs a(argv, valuedOptions(), kModelFlags);
    std::vector<std::string> policies = splitList(a.str("--policies", "all"));
    if (policies.size() == 1 && policies[0] == "all") {
        policies.clear();
        for (const KvPolicyInfo& i : kvPolicies()) policies.push_back(i.name);
    }
    std::vector<int64_t> budgets;
    for (const std::string& b : splitList(a.str("--budgets", "16,32,64"))) {
        try {
            budgets.push_back(std::stoll(b));
        } catch (const std::exception&) {
            fail(ErrorKind::BadInput, "--budgets expects comma-separated integers, got '" + b + "'");
        }
    }
    std::vector<KvParams> params;
    for (const std::string& pol : policies)
        for (int64_t b : budgets) params.push_back(paramsFrom(a, pol, b, false));
    const Prepared r = prepare(a, params);
    std::ostringstream csv;
    csv << "policy,budget,mode,granularity,kl,top1,ppl,ppl_full,retained_mass,output_rel_err\n";
    nlohmann::json rows = nlohmann::json::array();
    for (const KvParams& p : params) {
        Outcome o;
        try {
            o = evaluate(r, p);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Unsupported) throw;
            std::fprintf(stderr, "kv-sweep: skipping %s: %s\n", p.policy.c_str(), e.what());
            continue;
        }
        csv << p.policy << ',' << p.budget << ',' << kvModeName(p.mode) << ',' << kvGranularityName(o.selection.granularity)
            << ',' << o.e2e.kl << ',' << o.e2e.top1 << ',' << o.e2e.ppl << ',' << o.e2e.pplFull << ','
            << o.local.retainedMass << ',' << o.local.outputRelErr << '\n';
        rows.push_back({{"policy", p.policy}, {"budget", p.budget}, {"kl", o.e2e.kl}, {"top1", o.e2e.top1},
                        {"ppl", o.e2e.ppl}, {"ppl_full", o.e2e.pplFull}, {"retained_mass", o.local.retainedMass},
                        {"output_rel_err", o.local.outputRelErr}});
    }
    if (a.has("--csv")) {
        std::ofstream f(a.str("--csv"), std::ios::binary);
        if (!(f << csv.str())) fail(ErrorKind::BadInput, a.str("--csv") + ": cannot write");
    }
    if (a.has("--json")) std::cout << nlohmann::json{{"prompt_tokens", r.promptLength}, {"rows", rows}}.dump(-1) << "\n";
    else if (!a.has("--csv")) std::cout << csv.str();
    return 0;
}

}  // namespace attnscope::app
