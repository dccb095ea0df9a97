// The KV-cache eviction verbs (issue 6): `kv` shows one policy's decisions and their cost,
// `kv-sweep` tabulates fidelity over policies x budgets.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "attnscope/error.h"
#include "cli_common.h"
#include "kv_common.h"

namespace attnscope::app {
namespace {

nlohmann::json toJson(const KvParams& p, const KvPrepared& r, const KvOutcome& o) {
    nlohmann::json j;
    j["policy"] = p.policy;
    j["granularity"] = kvGranularityName(o.selection.granularity);
    j["mode"] = kvModeName(p.mode);
    j["budget"] = p.budget;
    j["precision_split"] = o.selection.precision;
    j["prompt_tokens"] = r.promptLength;
    j["continuation_tokens"] = r.inputs->continuation();
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
    const CliArgs a(argv, kvValuedOptions(), kModelFlags);
    if (!a.has("--policy") || !a.has("--budget")) fail(ErrorKind::BadInput, "kv needs --policy NAME and --budget B");
    const KvParams p = kvParamsFrom(a, a.str("--policy"), a.integer64("--budget", 0), true);
    auto inspector = openInspector(a);
    inspector->setPromptIds(promptIds(a, *inspector));
    const KvPrepared r = inspector->prepareKv(kvContinuationFrom(a, *inspector), {p});
    const KvOutcome o = inspector->evaluateKv(*r.inputs, p);
    if (a.has("--json")) {
        std::cout << toJson(p, r, o).dump(-1) << "\n";
        return 0;
    }
    std::printf("%s, budget %lld, %s mode, %s granularity; prompt %lld tokens, continuation %lld\n", p.policy.c_str(),
                (long long)p.budget, kvModeName(p.mode), kvGranularityName(o.selection.granularity),
                (long long)r.promptLength, (long long)r.inputs->continuation());
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
    const CliArgs a(argv, kvValuedOptions(), kModelFlags);
    std::vector<KvParams> params;
    for (const std::string& pol : kvPolicyList(a.str("--policies", "all")))
        for (int64_t b : kvBudgetList(a.str("--budgets", "16,32,64"))) params.push_back(kvParamsFrom(a, pol, b, false));
    auto inspector = openInspector(a);
    inspector->setPromptIds(promptIds(a, *inspector));
    const KvPrepared r = inspector->prepareKv(kvContinuationFrom(a, *inspector), params);
    std::vector<std::string> skipped;
    const std::vector<KvSweepRow> sweep = inspector->sweepKv(*r.inputs, params, {}, &skipped);
    for (const std::string& note : skipped) std::fprintf(stderr, "kv-sweep: skipping %s\n", note.c_str());
    std::ostringstream csv;
    csv << "policy,budget,mode,granularity,kl,top1,ppl,ppl_full,retained_mass,output_rel_err\n";
    nlohmann::json rows = nlohmann::json::array();
    for (const KvSweepRow& e : sweep) {
        csv << e.policy << ',' << e.budget << ',' << kvModeName(e.mode) << ',' << kvGranularityName(e.granularity) << ','
            << e.kl << ',' << e.top1 << ',' << e.ppl << ',' << e.pplFull << ',' << e.retainedMass << ','
            << e.outputRelErr << '\n';
        rows.push_back({{"policy", e.policy}, {"budget", e.budget}, {"kl", e.kl}, {"top1", e.top1},
                        {"ppl", e.ppl}, {"ppl_full", e.pplFull}, {"retained_mass", e.retainedMass},
                        {"output_rel_err", e.outputRelErr}});
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
