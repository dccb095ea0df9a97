// session: compute a whole session (every panel's results) and save it as .attnscope.
#include <cstdio>

#include "attnscope/error.h"
#include "cli_common.h"
#include "session_compute.h"

namespace attnscope::app {

int verbSession(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    for (const std::string& o : sessionOptions()) valued.insert(o);
    valued.insert("--out");
    const CliArgs a(argv, valued, kModelFlags);
    const std::string out = a.str("--out");
    if (out.empty()) fail(ErrorKind::BadInput, "session needs --out FILE.attnscope");
    const Session s = computeSession(a);
    saveSession(out, s);
    size_t tensors = 0;
    for (const auto& [id, sec] : s.panels) tensors += sec.tensors.size();
    std::printf("wrote %s: %zu tokens, %zu panels, %zu tensors\n", out.c_str(), s.tokenIds.size(), s.panels.size(), tensors);
    return 0;
}

}  // namespace attnscope::app
