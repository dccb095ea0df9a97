#include "cli_common.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"

namespace fs = std::filesystem;

namespace attnscope::app {

std::string defaultModelPath() {
    for (const char* dir : {ATTNSCOPE_SOURCE_RESOURCES "/models/attnscope-tiny",
                            "/usr/share/attnscope/models/attnscope-tiny"})
        if (fs::exists(fs::path(dir) / "config.json")) return dir;
    return {};
}

std::unique_ptr<Model> openModel(const CliArgs& a) {
    OpenOptions o;
    o.path = a.str("--model", defaultModelPath());
    if (o.path.empty())
        fail(ErrorKind::BadInput, "no --model given and no built-in default model is installed");
    o.tokenizerPath = a.str("--tokenizer");
    o.device = parseDevice(a.str("--device", "cpu"));
    o.dtype = parseDType(a.str("--dtype", "fp32"));
    return Model::open(o);
}

std::string readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(ErrorKind::NotFound, path + ": cannot open file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<int32_t> promptIds(const CliArgs& a, const Model& m) {
    const int sources = int(a.has("--ids")) + int(a.has("--prompt")) + int(a.has("--prompt-file"));
    if (sources != 1) fail(ErrorKind::BadInput, "give exactly one of --prompt, --prompt-file, --ids");
    if (a.has("--ids")) {
        std::vector<int32_t> ids;
        std::stringstream ss(a.str("--ids"));
        std::string item;
        while (std::getline(ss, item, ',')) {
            try {
                size_t used = 0;
                const long v = std::stol(item, &used);
                if (used != item.size() || v < INT32_MIN || v > INT32_MAX) throw std::invalid_argument(item);
                ids.push_back(int32_t(v));
            } catch (const std::exception&) {
                fail(ErrorKind::BadInput, "--ids expects comma-separated integers, got '" + item + "'");
            }
        }
        return ids;
    }
    const std::string text = a.has("--prompt") ? a.str("--prompt") : readTextFile(a.str("--prompt-file"));
    return m.tokenize(text, !a.has("--no-bos"));
}

std::string pieceOf(const Model& m, int32_t id) {
    return m.tokenizer() ? m.tokenizer()->piece(id) : std::to_string(id);
}

}  // namespace attnscope::app
