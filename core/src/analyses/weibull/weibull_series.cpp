// Checkpoint series for the Weibull view: which directories, in step order, and their fits.
#include "attnscope/analyses/weibull_series.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "attnscope/error.h"
#include "attnscope/model.h"

namespace attnscope {
namespace fs = std::filesystem;

namespace {

nlohmann::json readJson(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) fail(ErrorKind::NotFound, p.string() + ": cannot open file");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        fail(ErrorKind::BadInput, p.string() + ": malformed JSON (" + e.what() + ")");
    }
}

bool isModelDir(const fs::path& d) { return fs::exists(d / "config.json"); }

std::vector<WeibullCheckpoint> readSeries(const fs::path& root) {
    const fs::path manifest = root / "series.json";
    const nlohmann::json j = readJson(manifest);
    if (!j.is_object() || !j.contains("series") || !j["series"].is_array())
        fail(ErrorKind::BadInput, manifest.string() + ": needs a \"series\" array");
    std::vector<WeibullCheckpoint> out;
    const fs::path canonicalRoot = fs::weakly_canonical(root);
    for (const auto& e : j["series"]) {
        if (!e.is_object() || !e.contains("step") || !e["step"].is_number_integer() || !e.contains("path") ||
            !e["path"].is_string())
            fail(ErrorKind::BadInput, manifest.string() + ": every series entry needs an integer step and a path");
        const fs::path p = fs::weakly_canonical(root / e["path"].get<std::string>());
        const auto rel = p.lexically_relative(canonicalRoot);
        if (rel.empty() || *rel.begin() == "..")
            fail(ErrorKind::BadInput, manifest.string() + ": checkpoint path must stay inside the series");
        out.push_back({e["step"].get<int64_t>(), p.string()});
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
    return out;
}

}  // namespace

std::vector<WeibullCheckpoint> checkpointsIn(const std::string& dirName) {
    const fs::path dir(dirName);
    if (!fs::is_directory(dir)) fail(ErrorKind::NotFound, dirName + ": not a directory");
    if (fs::exists(dir / "series.json")) return readSeries(dir);
    if (isModelDir(dir) && fs::exists(dir.parent_path().parent_path() / "series.json"))
        return readSeries(dir.parent_path().parent_path());
    if (isModelDir(dir)) return checkpointsFromDirectories({dir.string()});
    std::vector<std::string> subdirs;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory() && isModelDir(e.path())) subdirs.push_back(e.path().string());
    if (subdirs.empty())
        fail(ErrorKind::BadInput, dirName + ": no series.json, config.json or model subdirectories");
    std::sort(subdirs.begin(), subdirs.end());
    return checkpointsFromDirectories(subdirs);
}

std::vector<WeibullCheckpoint> checkpointsFromDirectories(const std::vector<std::string>& dirs) {
    std::vector<WeibullCheckpoint> out;
    static const std::regex trailingNumber(R"((\d+)$)");
    for (size_t i = 0; i < dirs.size(); ++i) {
        const fs::path d = fs::path(dirs[i]).lexically_normal();
        WeibullCheckpoint c{int64_t(i), d.string()};
        std::smatch m;
        const std::string name = (d.filename().empty() ? d.parent_path() : d).filename().string();
        if (fs::exists(d / "train_state.json")) {
            const nlohmann::json j = readJson(d / "train_state.json");
            if (j.is_object() && j.contains("step") && j["step"].is_number_integer()) c.step = j["step"].get<int64_t>();
        } else if (std::regex_search(name, m, trailingNumber)) {
            c.step = std::stoll(m[1].str());
        }
        out.push_back(std::move(c));
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
    return out;
}

std::vector<WeibullSeriesPoint> fitWeibullSeries(const std::vector<WeibullCheckpoint>& checkpoints,
                                                 const WeibullParams& params,
                                                 const JobControl& job) {
    std::vector<WeibullSeriesPoint> out;
    for (size_t i = 0; i < checkpoints.size(); ++i) {
        job.check();
        OpenOptions o;
        o.path = checkpoints[i].path;
        const std::unique_ptr<Model> model = Model::open(o);
        WeibullParams p = params;
        p.isInit = checkpoints[i].step == 0;
        out.push_back({checkpoints[i], fitModelWeights(*model, p)});
        job.report(double(i + 1) / double(checkpoints.size()));
    }
    return out;
}

}  // namespace attnscope
