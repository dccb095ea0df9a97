#include "kv_common.h"

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "cli_args.h"

namespace attnscope::app {

std::set<std::string> kvValuedOptions() {
    auto v = kModelOptions;
    for (const std::string& o : kvPolicyOptions()) v.insert("--" + o);
    v.insert({"--policy", "--budget", "--mode", "--continuation-file", "--continuation", "--param", "--policies",
              "--budgets", "--csv"});
    return v;
}

}  // namespace attnscope::app
