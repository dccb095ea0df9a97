#include "cli_common.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"

namespace fs = std::filesystem;

namespace attnscope::app {

std::string defaultModelPath() {
    // Installed data beside the binary (<prefix>/bin/../share/attnscope) first, so an
    // installed attnscope-cli never reads a build tree; then the source tree, for builds.
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> roots;
    if (!ec) roots.push_back(exe.parent_path().parent_path() / "share/attnscope");
    roots.push_back(ATTNSCOPE_SOURCE_RESOURCES);
    roots.push_back("/usr/share/attnscope");
    for (const fs::path& root : roots) {
        const fs::path dir = root / "models/attnscope-tiny";
        if (fs::exists(dir / "config.json", ec)) return dir.lexically_normal().string();
    }
    return {};
}

// A checkpoint series (series.json at the model root) is one model over training time:
// --step N picks the checkpoint of that training step.
std::string checkpointPath(const std::string& root, long long step) {
    const fs::path manifest = fs::path(root) / "series.json";
    if (!fs::exists(manifest)) fail(ErrorKind::BadInput, root + ": --step needs a checkpoint series (series.json)");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(readTextFile(manifest.string()));
    } catch (const nlohmann::json::exception& e) {
        fail(ErrorKind::BadInput, manifest.string() + ": malformed JSON (" + e.what() + ")");
    }
    std::string steps;
    if (j.contains("series") && j["series"].is_array())
        for (const auto& e : j["series"]) {
            if (!e.is_object() || !e.contains("step") || !e["step"].is_number_integer() || !e.contains("path") ||
                !e["path"].is_string())
                fail(ErrorKind::BadInput, manifest.string() + ": every series entry needs an integer step and a path");
            if (e["step"].get<long long>() == step) {
                const std::string rel = e["path"].get<std::string>();
                if (rel.find("..") != std::string::npos || fs::path(rel).is_absolute())
                    fail(ErrorKind::BadInput, manifest.string() + ": checkpoint path must stay inside the series");
                return (fs::path(root) / rel).string();
            }
            steps += (steps.empty() ? "" : ", ") + std::to_string(e["step"].get<long long>());
        }
    fail(ErrorKind::BadInput, root + ": no checkpoint at step " + std::to_string(step) + " (steps: " + steps + ")");
}

std::unique_ptr<Model> openModel(const CliArgs& a) { return Model::open(openOptions(a)); }

std::unique_ptr<Inspector> openInspector(const CliArgs& a) {
    auto inspector = std::make_unique<Inspector>();
    inspector->open(openOptions(a));
    return inspector;
}

OpenOptions openOptions(const CliArgs& a) {
    OpenOptions o;
    o.path = a.str("--model", defaultModelPath());
    if (o.path.empty())
        fail(ErrorKind::BadInput, "no --model given and no built-in default model is installed");
    if (a.has("--step")) o.path = checkpointPath(o.path, a.integer64("--step", 0));
    o.tokenizerPath = a.str("--tokenizer");
    o.device = parseDevice(a.str("--device", "cpu"));
    o.dtype = parseDType(a.str("--dtype", "fp32"));
    return o;
}

namespace {

// The ids of --ids, or the text of --prompt / --prompt-file tokenized by `tokenize`.
template <class Tokenize>
std::vector<int32_t> promptIdsWith(const CliArgs& a, Tokenize tokenize) {
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
    return tokenize(text, !a.has("--no-bos"));
}

}  // namespace

std::vector<int32_t> promptIds(const CliArgs& a, const Inspector& inspector) {
    return promptIdsWith(a, [&](const std::string& t, bool bos) { return inspector.tokenize(t, bos); });
}

std::vector<int32_t> promptIds(const CliArgs& a, const Model& m) {
    return promptIdsWith(a, [&](const std::string& t, bool bos) { return m.tokenize(t, bos); });
}

std::string pieceOf(const Model& m, int32_t id) {
    return m.tokenizer() ? m.tokenizer()->piece(id) : "#" + std::to_string(id);
}

}  // namespace attnscope::app
