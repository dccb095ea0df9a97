// a3: A^3 low-rank attention (issue 18; shared/reference/weibull-and-quantization.md §4.1):
// every layer's QK, OV and MLP cut at each rank fraction, A^3 beside its baseline, through
// the Inspector. Ranks are fractions of each component's full dimension ("rank"); "r" is the
// kept dimension it rounds to.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

constexpr const char* kErrorName[] = {"score_err", "output_err", "output_err"};  // by A3Component

nlohmann::ordered_json pointJson(const A3Point& p, A3Component c, bool baseline, int64_t flops) {
    const std::string err = kErrorName[int(c)];
    nlohmann::ordered_json j = {{"rank", p.fraction}, {"r", p.r}, {err, p.heldOut}};
    if (c == A3Component::QK) j["row_kl"] = p.rowKl;
    j["objective"] = p.objective;
    j["weight_err"] = p.weightErr;
    j["params_saved"] = p.paramsSaved;
    j["flops_saved_per_token"] = flops;  // at the prompt's length
    if (baseline) {
        j["baseline_" + err] = p.baselineHeldOut;
        if (c == A3Component::QK) j["baseline_row_kl"] = p.baselineRowKl;
        j["baseline_objective"] = p.baselineObjective;
        j["baseline_weight_err"] = p.baselineWeightErr;
    }
    return j;
}

}  // namespace

int verbA3(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert({"--calib-file", "--ranks", "--component", "--a3-rope", "--holdout", "--apply", "--apply-epsilon",
                   "--continuation", "--apply-components", "--apply-layers"});
    auto flags = kModelFlags;
    flags.insert({"--baseline", "--no-refit"});
    const CliArgs a(argv, valued, flags);
    if (int(a.has("--apply")) + int(a.has("--apply-epsilon")) + int(a.has("--apply-layers")) > 1)
        fail(ErrorKind::BadInput, "--apply, --apply-epsilon and --apply-layers exclude each other");
    Options o;  // the request and the profile by the names every front end uses
    std::string ranks = a.str("--ranks", "0.125,0.25,0.5,0.75,1");
    if (a.has("--apply")) {
        const double applyRatio = a.number("--apply", 0);
        if (!(applyRatio > 0 && applyRatio <= 1)) fail(ErrorKind::BadInput, "--apply expects a rank fraction in (0, 1]");
        const std::vector<double> swept = numberList(ranks, "--ranks");
        if (std::find(swept.begin(), swept.end(), applyRatio) == swept.end()) ranks += "," + a.str("--apply");
    }
    o.set("--a3-ranks", ranks);
    o.set("--a3-refit", a.has("--no-refit") ? "0" : "1");
    for (const auto& [cli, name] : {std::pair<const char*, const char*>{"--a3-rope", "--a3-rope"},
                                    {"--holdout", "--a3-holdout"},
                                    {"--calib-file", "--a3-calib-file"},
                                    {"--apply", "--a3-apply"},
                                    {"--apply-epsilon", "--a3-apply-epsilon"},
                                    {"--apply-layers", "--a3-apply-layers"},
                                    {"--apply-components", "--a3-apply-components"}})
        if (a.has(cli)) o.set(name, a.str(cli));
    const std::string component = a.str("--component", "all");
    std::vector<A3Component> components;
    for (A3Component c : {A3Component::QK, A3Component::OV, A3Component::MLP})
        if (component == "all" || component == a3ComponentName(c)) components.push_back(c);
    if (components.empty()) fail(ErrorKind::BadInput, "--component expects qk, ov, mlp or all");

    auto inspector = openInspector(a);
    const std::vector<int32_t> ids = promptIds(a, *inspector);
    inspector->setPromptIds(ids);
    const A3Result r = inspector->a3(a3RequestFrom(o));

    const ModelInfo& info = inspector->info();
    const int bytes = info.dtype == DType::F32 ? 4 : 2;
    nlohmann::ordered_json j;
    j["qk_mode"] = r.qkMode;
    j["calib_tokens"] = r.calibTokens;
    j["held_out_rows"] = r.heldOutRows;
    j["layers"] = nlohmann::ordered_json::array();
    for (const A3Layer& layer : r.layers) {
        nlohmann::ordered_json lj = nlohmann::ordered_json::object();
        for (A3Component c : components) {
            nlohmann::ordered_json pts = nlohmann::ordered_json::array();
            for (const A3Point& p : layer.of(c))
                pts.push_back(pointJson(p, c, a.has("--baseline"), a3PointFlopsSaved(r, c, p, int64_t(ids.size()))));
            lj[a3ComponentName(c)] = std::move(pts);
        }
        j["layers"].push_back(std::move(lj));
    }
    nlohmann::ordered_json kv = {{"full", a3KvBytesPerToken(r.nLayers, r.nKvHeads, r.headDim, r.headDim, bytes)},
                                 {"bytes_per_element", bytes}};
    kv["reduced"] = nlohmann::ordered_json::array();
    for (size_t i = 0; i < r.fractions.size(); ++i) {
        const double f = r.fractions[i];
        const int rqk = a3Rank(r, A3Component::QK, f), rvo = a3Rank(r, A3Component::OV, f);
        kv["reduced"].push_back({{"rank", f}, {"r_qk", rqk}, {"r_vo", rvo},
                                 {"bytes", a3KvBytesPerToken(r.nLayers, r.nKvHeads, rqk, rvo, bytes)},
                                 {"flops_saved_per_token", a3FlopsSavedPerToken(r, i, int64_t(ids.size()))}});
    }
    j["kv_bytes_per_token"] = std::move(kv);
    if (a.has("--apply") || a.has("--apply-epsilon") || a.has("--apply-layers")) {
        const A3EndToEnd e = inspector->a3EndToEnd(o, a.integer("--continuation", 16));  // the sweep above, reused
        nlohmann::ordered_json ranks = nlohmann::ordered_json::array(), dims = nlohmann::ordered_json::array();
        for (const auto& rk : e.profile.ranks) ranks.push_back({rk[0], rk[1], rk[2]});
        for (const auto& d : e.cacheDims) dims.push_back({d[0], d[1]});
        j["end_to_end"] = {{"profile", e.profile.name}, {"ranks", ranks}, {"ppl_full", e.pplFull},
                           {"ppl_reduced", e.ppl}, {"kl", e.kl}, {"top1", e.top1}, {"tokens", e.tokens},
                           {"kv_bytes_per_token", {{"full", e.kvBytesFull}, {"reduced", e.kvBytesReduced}}},
                           {"cache_dims", dims}, {"params_saved", e.paramsSaved},
                           {"continuation_full", inspector->decode(e.continuationFull)},
                           {"continuation_reduced", inspector->decode(e.continuation)}, {"note", e.note}};
    }
    if (a.has("--json")) {
        std::cout << j.dump(-1) << "\n";
        return 0;
    }
    std::printf("A^3 on %lld calibration tokens, %lld held-out rows; QK: %s\n", (long long)r.calibTokens,
                (long long)r.heldOutRows, r.qkMode.c_str());
    std::printf("layer comp  rank     r   held-out err  baseline err  objective  params saved\n");
    for (size_t l = 0; l < r.layers.size(); ++l)
        for (A3Component c : components)
            for (const A3Point& p : r.layers[l].of(c))
                std::printf("%5zu %-4s %5.3f %5d   %11.5f   %11.5f  %9.5f  %12lld\n", l, a3ComponentName(c), p.fraction,
                            p.r, p.heldOut, p.baselineHeldOut, p.objective, (long long)p.paramsSaved);
    if (j.contains("end_to_end")) {
        const auto& e = j["end_to_end"];
        std::printf("End to end (%s): perplexity %.4f -> %.4f, KL %.5f nats, top-1 %.3f over %s held-out tokens\n",
                    e["profile"].get<std::string>().c_str(), e["ppl_full"].get<double>(), e["ppl_reduced"].get<double>(),
                    e["kl"].get<double>(), e["top1"].get<double>(), e["tokens"].dump().c_str());
        std::printf("  full:    %s\n  reduced: %s\n", e["continuation_full"].get<std::string>().c_str(),
                    e["continuation_reduced"].get<std::string>().c_str());
        if (!e["note"].get<std::string>().empty()) std::printf("  note: %s\n", e["note"].get<std::string>().c_str());
    }
    std::printf("KV cache: %s bytes/token in full\n", j["kv_bytes_per_token"]["full"].dump().c_str());
    for (const auto& e : j["kv_bytes_per_token"]["reduced"])
        std::printf("  rank %s: r_qk %s, r_vo %s -> %s bytes/token\n", e["rank"].dump().c_str(),
                    e["r_qk"].dump().c_str(), e["r_vo"].dump().c_str(), e["bytes"].dump().c_str());
    return 0;
}

}  // namespace attnscope::app
