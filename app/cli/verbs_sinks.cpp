// The sinks verb: primary and secondary attention sinks, sink levels and the per-layer
// views of the sinks panel (reference sinks-and-kv-eviction.md Part 1), as JSON.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "attnscope/error.h"
#include "cli_common.h"
#include "attnscope/analysis_registry.h"

namespace attnscope::app {
namespace {

nlohmann::json toJson(const SinkResult& r) {
    nlohmann::json j;
    j["primary"] = r.primary;
    j["onset"] = r.onset;
    j["offset"] = r.offset;
    j["layers"] = nlohmann::json::array();
    for (const SinkLayer& y : r.layers)
        j["layers"].push_back({{"sink_score", y.sinkScore},
                               {"frac_heads", y.fracHeads},
                               {"cos_to_primary", y.cosToPrimary},
                               {"hidden_norm", y.hiddenNorm},
                               {"mlp_cos_to_primary", y.mlpCosToPrimary},
                               {"mlp_norm", y.mlpNorm}});
    j["sinks"] = nlohmann::json::array();
    for (const SinkToken& s : r.sinks)
        j["sinks"].push_back({{"token", s.token},
                              {"class", sinkClassName(s.cls)},
                              {"creation_layer", s.creationLayer},
                              {"lifetime", s.lifetime},
                              {"score", s.meanScore}});
    j["levels"] = nlohmann::json::array();
    for (const SinkLevel& v : r.levels)
        j["levels"].push_back({{"creation_layer", v.creationLayer}, {"lifetime", v.lifetime}, {"count", v.count}});
    return j;
}

void printSummary(const SinkResult& r, const Inspector& m, const std::vector<int32_t>& ids) {
    std::printf("primary sink p0 = %lld (%s), analysed layers [%d, %d) of %d, rule %s, source %s\n",
                (long long)r.primary, m.piece(ids[size_t(r.primary)]).c_str(), r.onset, r.offset, r.nLayers,
                sinkRuleName(r.rule), sinkSourceName(r.source));
    std::printf("%d primary, %d secondary, %d noise\n", r.count(SinkClass::Primary), r.count(SinkClass::Secondary),
                r.count(SinkClass::Noise));
    std::printf("layer  s(p0)   weakening  ||h_p0||   secondary created\n");
    for (int l = 0; l < r.nLayers; ++l) {
        const SinkLayer& y = r.layers[size_t(l)];
        std::printf("%5d  %.4f  %9.4f  %9.3f  %d\n", l, y.primaryStrength, y.weakening,
                    r.primaryNorm.empty() ? 0.0 : double(r.primaryNorm[size_t(l)]), y.secondaryCreated);
    }
    for (const SinkToken& s : r.sinks)
        if (s.cls != SinkClass::Noise)
            std::printf("  token %lld %-12s %-9s creation %d lifetime %d score %.4f\n", (long long)s.token,
                        m.piece(s.id).c_str(), sinkClassName(s.cls), s.creationLayer, s.lifetime, s.meanScore);
}

}  // namespace

int verbSinks(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    for (const AnalysisOption& o : findAnalysis("sinks").options) valued.insert(o.name);
    const CliArgs a(argv, valued, kModelFlags);
    const SinkParams p = sinkParamsFrom(a);

    auto inspector = openInspector(a);
    const std::vector<int32_t> ids = promptIds(a, *inspector);
    inspector->setPromptIds(ids);
    const SinkResult r = inspector->sinks(p);
    if (a.has("--json")) {
        std::cout << toJson(r).dump(-1) << "\n";
        return 0;
    }
    printSummary(r, *inspector, ids);
    return 0;
}

}  // namespace attnscope::app
