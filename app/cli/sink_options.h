// The sinks analysis' command-line options, shared by `sinks`, `session` and `export`.
#pragma once
#include <set>
#include <string>

#include "attnscope/analyses/sinks.h"
#include "cli_args.h"

namespace attnscope::app {

extern const std::set<std::string> kSinkOptions;  // --epsilon --cos-threshold --min-query-pos --rule --source --bos
SinkParams sinkParamsFromArgs(const CliArgs& a);   // throws Error(BadInput)

}  // namespace attnscope::app
