// attnscope-cli <id> for every registered analysis that asks for a verb (AnalysisSpec::verb):
// runs the prompt through an Inspector, computes the analysis's session section and prints its
// parameters and tensors (JSON with --json). A new analysis gets its verb with no CLI code.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "attnscope/analysis_registry.h"
#include "attnscope/inspector.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

nlohmann::json tensorJson(const SessionTensor& t, const std::string& what) {
    nlohmann::json j = {{"shape", t.shape}, {"dtype", sessionTensorTypeName(t.type)}};
    switch (t.type) {
    case SessionTensor::Type::F32: j["data"] = t.toF32(what); break;
    case SessionTensor::Type::F64: j["data"] = t.toF64(what); break;
    case SessionTensor::Type::I32: j["data"] = t.toI32(what); break;
    case SessionTensor::Type::I64: j["data"] = t.toI64(what); break;
    case SessionTensor::Type::U8: j["data"] = t.toU8(what); break;
    }
    return j;
}

int runAnalysis(const AnalysisSpec& spec, const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    for (const AnalysisOption& o : spec.options) valued.insert(o.name);
    const CliArgs a(argv, valued, kModelFlags);
    auto inspector = openInspector(a);
    Session s;
    if (!spec.promptOption.empty() && a.has(spec.promptOption))
        s.tokenIds = inspector->tokenize(a.str(spec.promptOption), !a.has("--no-bos"));
    else s.tokenIds = promptIds(a, *inspector);
    s.tokenPieces = inspector->tokenStrip(s.tokenIds).pieces;
    inspector->setPromptIds(s.tokenIds);
    const SessionSection section = spec.compute(*inspector, a, s, {});
    if (a.has("--json") && spec.json) {
        nlohmann::json j = spec.json(section);
        j["analysis"] = spec.id;
        std::cout << j.dump(-1) << "\n";
        return 0;
    }
    if (a.has("--json")) {
        nlohmann::json j = {{"analysis", spec.id}, {"tokens", s.tokenIds.size()}, {"params", section.params}};
        j["tensors"] = nlohmann::json::object();
        for (const auto& [name, t] : section.tensors) j["tensors"][name] = tensorJson(t, spec.id + "/" + name);
        std::cout << j.dump(-1) << "\n";
        return 0;
    }
    std::printf("%s: %s\n%zu tokens; parameters %s\n", spec.title.c_str(), spec.help.c_str(), s.tokenIds.size(),
                section.params.dump().c_str());
    for (const auto& [name, t] : section.tensors) {
        std::string shape;
        for (int64_t d : t.shape) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
        std::printf("  %-16s %s [%s]\n", name.c_str(), sessionTensorTypeName(t.type), shape.c_str());
    }
    std::printf("(--json prints every value)\n");
    return 0;
}

}  // namespace

std::vector<CliVerb> analysisVerbs() {
    std::vector<CliVerb> verbs;
    for (const AnalysisSpec& spec : analysisRegistry()) {
        if (!spec.verb) continue;
        std::string usage;
        for (const AnalysisOption& o : spec.options) usage += (usage.empty() ? "[" : " [") + o.name + "]";
        verbs.push_back({spec.verbName.empty() ? spec.id : spec.verbName, usage, spec.help,
                         [&spec](const std::vector<std::string>& argv) { return runAnalysis(spec, argv); }});
    }
    return verbs;
}

}  // namespace attnscope::app
