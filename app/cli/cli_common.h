// What the verbs share: opening the model and reading the prompt from the options.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "attnscope/model.h"
#include "cli_args.h"

namespace attnscope::app {

struct CliVerb {
    const char* name;
    const char* usage;  // options beyond the common model options
    const char* help;
    int (*run)(const std::vector<std::string>& args);
};

const std::vector<CliVerb>& cliVerbs();

// The built-in default model when --model is absent (empty when none is installed).
std::string defaultModelPath();

std::unique_ptr<Model> openModel(const CliArgs& a);
// --ids 1,2,3 | --prompt TEXT | --prompt-file F; BOS per the tokenizer unless --no-bos.
std::vector<int32_t> promptIds(const CliArgs& a, const Model& m);
std::string pieceOf(const Model& m, int32_t id);
std::string readTextFile(const std::string& path);

}  // namespace attnscope::app
