// The KV-cache and quantization sections of a CLI session (attnscope-cli session / export):
// the same results the GUI's KV and quantization docks compute and save.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "attnscope/model.h"
#include "attnscope/session_codecs.h"
#include "cli_args.h"

namespace attnscope::app {

// KV: --policy (h2o) --budget (64) --mode and the policy options for A; --compare POLICY pins
// B at A's budget; the sweep over --policies (all) x --budgets (16,32,64,128), or its rows
// read from a `kv-sweep --csv` file (--sweep-csv); --continuation N | --continuation-file F.
const std::set<std::string>& sessionKvOptions();
KvSection computeKvSection(Model& model, const std::vector<int32_t>& prompt, const CliArgs& a,
                           const std::vector<int64_t>& sinks);
// Rows of `attnscope-cli kv-sweep --csv` (columns found by their header names).
std::vector<KvSweepRow> readKvSweepCsv(const std::string& path);

// Quantization: --quant-scheme (rtn-sym) --quant-bits (4) --quant-group (0 = the scheme's),
// calibrated on the prompt; the bars compare --quant-methods A,B (none,qera-exact) at
// --quant-rank (32) in --quant-error output|weight.
const std::set<std::string>& sessionQuantOptions();
QuantSection computeQuantSection(Model& model, const std::vector<int32_t>& prompt, const CliArgs& a);

}  // namespace attnscope::app
