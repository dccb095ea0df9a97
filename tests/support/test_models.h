// Opening the models tests run on, on the CPU: any path, a Hugging Face fixture of
// tests/data/models, the built-in model and llama2.c's stories260K beside the checkout; and
// a prompt read from a text under tests/data.
#pragma once
#include <QFile>
#include <QString>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "attnscope/model.h"
#include "test_paths.h"

namespace testmodels {

// A model and its trace of one sequence, kept together: the model outlives its trace.
struct ModelRun {
    std::unique_ptr<attnscope::Model> model;
    std::unique_ptr<attnscope::Trace> trace;
};

// A model directory or file (config.json beside a .safetensors, a llama2.c .bin), in `dtype`.
inline std::unique_ptr<attnscope::Model> openPath(const std::string& path,
                                                  attnscope::DType dtype = attnscope::DType::F32) {
    attnscope::OpenOptions o;
    o.path = path;
    o.dtype = dtype;
    return attnscope::Model::open(o);
}

// tests/data/models/<family>.
inline std::unique_ptr<attnscope::Model> openFixture(const QString& family) {
    return openPath(testpaths::data("models/" + family).toStdString());
}

// The built-in model (resources/models/attnscope-tiny).
inline QString builtinModelDir() { return testpaths::data("../../resources/models/attnscope-tiny"); }
inline std::unique_ptr<attnscope::Model> openBuiltin() { return openPath(builtinModelDir().toStdString()); }

// stories260K.bin with its tokenizer tok512.bin, from testpaths::stories260K().
inline std::unique_ptr<attnscope::Model> openStories(const QString& dir) {
    attnscope::OpenOptions o;
    o.path = (dir + "/stories260K.bin").toStdString();
    o.tokenizerPath = (dir + "/tok512.bin").toStdString();
    return attnscope::Model::open(o);
}

// The first `maxTokens` ids (BOS first) of a text under tests/data as `model` tokenizes it;
// empty when the file cannot be read.
inline std::vector<int32_t> dataPrompt(const attnscope::Model& model, const QString& file, size_t maxTokens) {
    QFile f(testpaths::data(file));
    if (!f.open(QIODevice::ReadOnly)) return {};
    std::vector<int32_t> ids = model.tokenize(f.readAll().toStdString(), true);
    ids.resize(std::min(ids.size(), maxTokens));
    return ids;
}

// n token ids drawn from [0, 256), every fixture's vocabulary, by std::mt19937(seed).
inline std::vector<int32_t> seededIds(unsigned seed, int n) {
    std::mt19937 rng(seed);
    std::vector<int32_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(int32_t(rng() % 256));
    return ids;
}

}  // namespace testmodels
