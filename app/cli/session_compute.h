// Computes a whole session from the command line (attnscope-cli session / export): opens the
// model in an Inspector and asks the analysis registry for every requested section.
#pragma once
#include <set>
#include <string>

#include "attnscope/session.h"
#include "cli_args.h"

namespace attnscope::app {

// --panels a,b (default: every registered analysis), the view options --layer --head --token,
// and every registered analysis's own options.
std::set<std::string> sessionOptions();
Session computeSession(const CliArgs& a);

}  // namespace attnscope::app
