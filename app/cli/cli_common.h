// What the verbs share: opening the model and reading the prompt from the options.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attnscope/inspector.h"
#include "attnscope/model.h"
#include "cli_args.h"

namespace attnscope::app {

struct CliVerb {
    std::string name;
    std::string usage;  // options beyond the common model options
    std::string help;
    std::function<int(const std::vector<std::string>& args)> run;
};

const std::vector<CliVerb>& cliVerbs();

// The built-in default model when --model is absent (empty when none is installed).
std::string defaultModelPath();

OpenOptions openOptions(const CliArgs& a);  // --model (or the built-in one), --step, --tokenizer, --device, --dtype
std::unique_ptr<Model> openModel(const CliArgs& a);  // the quantization and training verbs' own models
// The verbs work through an Inspector holding that model.
std::unique_ptr<Inspector> openInspector(const CliArgs& a);
// --ids 1,2,3 | --prompt TEXT | --prompt-file F; BOS per the tokenizer unless --no-bos.
std::vector<int32_t> promptIds(const CliArgs& a, const Inspector& inspector);
std::vector<int32_t> promptIds(const CliArgs& a, const Model& m);
std::string pieceOf(const Model& m, int32_t id);  // "#id" without a tokenizer, as Inspector::piece

}  // namespace attnscope::app
