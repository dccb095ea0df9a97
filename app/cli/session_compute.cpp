#include "session_compute.h"

#include <algorithm>

#include "attnscope/analysis_registry.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/session_codecs.h"
#include "cli_common.h"

namespace attnscope::app {

std::set<std::string> sessionOptions() {
    std::set<std::string> v = {"--layer", "--head", "--token", "--panels"};
    for (const AnalysisSpec& spec : analysisRegistry())
        for (const AnalysisOption& o : spec.options) v.insert(o.name);
    return v;
}

Session computeSession(const CliArgs& a) {
    std::vector<std::string> panels = a.has("--panels") ? splitList(a.str("--panels")) : defaultSessionIds();
    for (const std::string& p : panels) findAnalysis(p);  // unknown ids: a clear error before any work

    auto inspector = openInspector(a);
    const ModelInfo& info = inspector->info();
    Session s;
    s.appVersion = ATTNSCOPE_VERSION;
    s.created = sessionTimestampNow();
    s.model.path = info.path;
    s.model.tokenizer = a.str("--tokenizer");
    s.model.family = info.arch;
    s.model.sha256 = sessionModelFingerprint(s.model.path, s.model.tokenizer);
    s.model.device = deviceName(info.device);
    s.model.dtype = dtypeName(info.dtype);
    s.model.step = a.has("--step") ? a.integer("--step", -1) : -1;
    s.tokenIds = promptIds(a, *inspector);
    s.prompt = a.has("--prompt-file") ? readTextFile(a.str("--prompt-file")) : a.str("--prompt");
    s.tokenPieces = inspector->tokenStrip(s.tokenIds).pieces;

    const AnalysisView view = analysisView(a);
    s.view.layer = view.layer;
    s.view.head = view.head;
    s.view.token = view.token;
    if (s.view.layer < 0 || s.view.layer >= info.nLayers)
        fail(ErrorKind::BadInput, "--layer must be in [0, " + std::to_string(info.nLayers) + ")");
    if (s.view.head < -1 || s.view.head >= info.nHeads)
        fail(ErrorKind::BadInput, "--head must be -1 (mean) or in [0, " + std::to_string(info.nHeads) + ")");
    if (s.view.token < -1 || s.view.token >= int64_t(s.tokenIds.size()))
        fail(ErrorKind::BadInput, "--token is outside the prompt");

    inspector->setPromptIds(s.tokenIds);  // traced once, by the first section that needs it
    for (const AnalysisSpec& spec : analysisRegistry()) {  // registry order: sinks before kv
        if (std::find(panels.begin(), panels.end(), spec.id) == panels.end()) continue;
        s.view.openPanels.push_back(spec.id);
        s.panels[spec.id] = spec.compute(*inspector, a, s, {});
    }
    s.view.currentPanel = s.view.openPanels.empty() ? std::string() : s.view.openPanels.front();
    return s;
}

}  // namespace attnscope::app
