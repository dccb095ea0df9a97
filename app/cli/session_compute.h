// Computes a whole session from the command line (attnscope-cli session / export): runs the
// prompt, computes every panel's results and fills the same sections the GUI saves.
#pragma once
#include <set>
#include <string>

#include "attnscope/session.h"
#include "cli_args.h"

namespace attnscope::app {

// Options beyond the model options: --layer --head --token (view), --panels a,b (default
// all), --max-map N (attention maps pooled to at most N x N), the sink options, and
// --protocol --trim --weibull-matrix (Weibull).
extern const std::set<std::string> kSessionOptions;
Session computeSession(const CliArgs& a);

}  // namespace attnscope::app
