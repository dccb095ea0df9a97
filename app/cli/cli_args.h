// Command-line parsing shared by every verb: --key value pairs and flags (core's Options, which
// the analysis registry reads too).
#pragma once
#include <set>
#include <string>

#include "attnscope/options.h"

namespace attnscope::app {

using CliArgs = Options;

// Options every model verb accepts.
extern const std::set<std::string> kModelOptions;  // valued
extern const std::set<std::string> kModelFlags;

}  // namespace attnscope::app
