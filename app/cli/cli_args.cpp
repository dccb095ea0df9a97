#include "cli_args.h"

namespace attnscope::app {

const std::set<std::string> kModelOptions = {"--model", "--tokenizer", "--device", "--dtype",
                                             "--prompt", "--prompt-file", "--ids", "--step"};
const std::set<std::string> kModelFlags = {"--no-bos", "--json"};

}  // namespace attnscope::app
