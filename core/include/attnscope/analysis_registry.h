// The one registry of AttnScope's analyses (PlotJuggler's "one family, one interface"). Each
// analysis is one folder core/src/analyses/<id>/ with its parameters, its result type, its
// session codec and this entry (<id>_analysis.cpp); core/src/analyses/analysis_registry.cpp
// lists the entries in one explicit registerBuiltins-style list.
//
// Front ends ask it what exists: `attnscope-cli session` computes and validates its sections,
// `attnscope-cli <verb> --help` and the GUI's panel table take ids and titles from it.
// Torch-free and Qt-free.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "attnscope/job.h"
#include "attnscope/options.h"
#include "attnscope/session.h"

namespace attnscope {

class Inspector;

struct AnalysisOption {
    std::string name;  // "--budget"
    std::string help;  // "B: kept tokens per head (64)"
};

struct AnalysisSpec {
    std::string id;                       // session section and panel id ([a-z_]+), stable
    std::string title;                    // human name, for menus and docks
    std::string help;                     // one line: what it computes
    std::vector<AnalysisOption> options;  // what compute() reads
    // True: `attnscope-cli <id>` computes the section and prints it (JSON with --json). Analyses
    // with verbs of their own (sinks, kv, ...) leave it false.
    bool verb = false;
    // The analysis's session section for the Inspector's prompt. `earlier` holds the sections
    // of the entries before it in the registry (KV marks the sinks section's sinks).
    std::function<SessionSection(Inspector& inspector, const Options& options, const Session& earlier,
                                 const JobControl& job)>
        compute;
    // Throws Error(BadInput) when a stored section cannot be decoded (opening a session checks
    // every section first).
    std::function<void(const Session& session, const SessionSection& section)> validate;
    // Optional: what `attnscope-cli <id> --json` prints for the section (default: its parameters
    // and tensors).
    std::function<nlohmann::json(const SessionSection& section)> json;
    // The verb's name when it is not the id (`attnscope-cli logit-lens` for the id logit_lens).
    std::string verbName;
    // False: computed only when asked for (`--panels`): it needs inputs of its own (a second
    // prompt, what to ablate) or costs many forward passes.
    bool inDefaultSession = true;
    // The option that may give the verb's prompt instead of --prompt (patch: --clean-prompt).
    std::string promptOption;
};

// In registry order: attention, heads, sinks, weibull, kv, quant, ...
const std::vector<AnalysisSpec>& analysisRegistry();
// Throws Error(BadInput) naming the known ids.
const AnalysisSpec& findAnalysis(const std::string& id);
std::vector<std::string> analysisIds();
std::vector<std::string> defaultSessionIds();  // the ids computed when no --panels is given

// View state every section may read: --layer, --head (-1 = mean), --token.
struct AnalysisView {
    int layer = 0, head = 0;
    int64_t token = -1;
};
AnalysisView analysisView(const Options& options);  // no range checks (the session verb checks them)

}  // namespace attnscope
