// KV-cache eviction for sessions, and the options every front end names its parameters by.
#include <fstream>
#include <map>
#include <sstream>

#include "analyses/analysis_list.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/session_codecs.h"

namespace attnscope {
namespace {

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
        const auto v = parseNumber(text);
        if (!v) fail(ErrorKind::BadInput, "--" + name + " expects a number or a choice, got '" + text + "'");
        p.values[name] = *v;
        p.get(name);  // range check
        return;
    }
    fail(ErrorKind::BadInput, "policy " + p.policy + " has no parameter '" + name + "'");
}

std::vector<std::string> csvCells(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) out.push_back(cell);
    return out;
}

double csvNumber(const std::string& cell, const std::string& where) {
    const auto v = parseNumber(cell);
    if (!v) fail(ErrorKind::BadInput, where + ": '" + cell + "' is not a number");
    return *v;
}

KvSection kvSection(Inspector& inspector, const Options& a, const Session& earlier, const JobControl& job) {
    KvSection k;
    k.policies = kvPolicies();
    const int64_t budget = a.integer64("--budget", 64);
    if (budget < 1) fail(ErrorKind::BadInput, "--budget must be >= 1");
    k.params = kvParamsFrom(a, a.str("--policy", "h2o"), budget, true);
    std::vector<KvParams> cover = {k.params};
    k.hasCompare = a.has("--compare");
    if (k.hasCompare) {
        k.compareParams = kvParamsFrom(a, a.str("--compare"), budget, false);
        k.compareParams.mode = KvMode::Prefill;
        cover.push_back(k.compareParams);
    }
    std::vector<KvParams> sweep;
    const bool sweepFromCsv = a.has("--sweep-csv");
    if (sweepFromCsv) {
        k.sweep = readKvSweepCsv(a.str("--sweep-csv"));
    } else {
        for (const std::string& p : kvPolicyList(a.str("--policies", "all")))
            for (int64_t b : kvBudgetList(a.str("--budgets", "16,32,64,128"))) sweep.push_back(kvParamsFrom(a, p, b, false));
        for (KvParams& p : sweep) p.mode = KvMode::Prefill;  // the sweep is of prefill decisions, as the panel's
        cover.insert(cover.end(), sweep.begin(), sweep.end());
    }
    const KvPrepared run = inspector.prepareKv(kvContinuationFrom(a, inspector), cover, job.part(0, 0.3));
    const KvOutcome a0 = inspector.evaluateKv(*run.inputs, k.params, job.part(0.3, 0.4));
    k.selection = a0.selection;
    k.metrics = a0.local;
    k.endToEnd = a0.e2e;
    k.hasEndToEnd = true;
    if (k.hasCompare) k.compare = evaluateKvLocal(*run.inputs, k.compareParams).selection;
    if (!sweepFromCsv) k.sweep = inspector.sweepKv(*run.inputs, sweep, job.part(0.4, 1));
    k.tokens = inspector.tokenStrip(run.ids);
    auto stored = earlier.panels.find("sinks");  // the sinks section's sinks, marked as the GUI marks them
    if (stored != earlier.panels.end()) k.sinks = sinkMarks(decodeSinks(stored->second, earlier.tokenIds).result);
    return k;
}

}  // namespace

const std::vector<std::string>& kvPolicyOptions() {
    static const std::vector<std::string> options = {"window", "kernel", "pool", "sink", "recent", "heavy", "gqa",
                                                     "drop", "beta", "seed", "low_ratio", "high_bits", "low_bits"};
    return options;
}

KvParams kvParamsFrom(const Options& a, const std::string& policy, int64_t budget, bool strict) {
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
        const auto v = parseInteger(b);
        if (!v || *v < 1) fail(ErrorKind::BadInput, "budgets must be comma-separated integers >= 1, got '" + b + "'");
        budgets.push_back(*v);
    }
    return budgets;
}

KvContinuation kvContinuationFrom(const Options& a, const Inspector& inspector) {
    KvContinuation c;
    if (a.has("--continuation-file")) {
        c.given = inspector.tokenize(readTextFile(a.str("--continuation-file")), false);
        if (c.given.empty()) fail(ErrorKind::BadInput, a.str("--continuation-file") + ": no tokens");
    } else {
        c.tokens = a.integer("--continuation", 32);
        if (c.tokens < 0) fail(ErrorKind::BadInput, "--continuation must be >= 0");
    }
    return c;
}

std::vector<KvSweepRow> readKvSweepCsv(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(ErrorKind::NotFound, path + ": cannot open");
    std::string line;
    if (!std::getline(f, line)) fail(ErrorKind::BadInput, path + ": empty file");
    const std::vector<std::string> header = csvCells(line);
    std::map<std::string, size_t> col;
    for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
    for (const char* c : {"policy", "budget", "kl", "top1", "ppl", "ppl_full", "retained_mass", "output_rel_err"})
        if (!col.count(c)) fail(ErrorKind::BadInput, path + ": no column '" + c + "' (expected attnscope-cli kv-sweep --csv output)");
    std::vector<KvSweepRow> rows;
    for (int n = 2; std::getline(f, line); ++n) {
        if (line.empty()) continue;
        const std::vector<std::string> c = csvCells(line);
        const std::string where = path + ":" + std::to_string(n);
        if (c.size() != header.size())
            fail(ErrorKind::BadInput, where + ": " + std::to_string(c.size()) + " cells, the header has " + std::to_string(header.size()));
        KvSweepRow r;
        r.policy = c[col["policy"]];
        const double budget = csvNumber(c[col["budget"]], where);
        if (budget < 1 || budget != double(int64_t(budget))) fail(ErrorKind::BadInput, where + ": the budget must be an integer >= 1");
        r.budget = int64_t(budget);
        r.kl = csvNumber(c[col["kl"]], where);
        r.top1 = csvNumber(c[col["top1"]], where);
        r.ppl = csvNumber(c[col["ppl"]], where);
        r.pplFull = csvNumber(c[col["ppl_full"]], where);
        r.retainedMass = csvNumber(c[col["retained_mass"]], where);
        r.outputRelErr = csvNumber(c[col["output_rel_err"]], where);
        rows.push_back(std::move(r));
    }
    return rows;
}

AnalysisSpec kvAnalysis() {
    AnalysisSpec a{"kv", "KV-Cache Eviction",
                   "which tokens a KV policy keeps per layer and head, and what that costs; a budget sweep",
                   {{"--policy", "NAME: policy A (h2o)"},
                    {"--budget", "B: kept tokens per head (64)"},
                    {"--mode", "prefill|decode (prefill)"},
                    {"--param", "name=value,...: policy parameters"},
                    {"--compare", "NAME: policy B, pinned at A's budget"},
                    {"--policies", "a,b|all: the sweep's policies (all)"},
                    {"--budgets", "16,32,...: the sweep's budgets (16,32,64,128)"},
                    {"--sweep-csv", "F: the sweep's rows from `kv-sweep --csv` output instead"},
                    {"--continuation", "N: greedy continuation tokens evaluated (32)"},
                    {"--continuation-file", "F: evaluate on this text instead"}},
                   false,
                   [](Inspector& inspector, const Options& o, const Session& earlier, const JobControl& job) {
                       return encodeKv(kvSection(inspector, o, earlier, job));
                   },
                   validateBy(decodeKv)};
    for (const std::string& o : kvPolicyOptions()) a.options.push_back({"--" + o, "a policy parameter"});
    return a;
}

}  // namespace attnscope
