// The KV verbs' (kv, kv-sweep) command-line options; parameters, continuation and the pipeline
// are core's (attnscope/analyses/kv.h, the Inspector).
#pragma once
#include <set>
#include <string>

namespace attnscope::app {

std::set<std::string> kvValuedOptions();  // model options + policy options + the KV verbs' own

}  // namespace attnscope::app
