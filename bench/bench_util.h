// Shared by the bench executables: model shapes, timing, argument lookup.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "attnscope/device_stats.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/model.h"

namespace attnscope::bench {

// Random-weight shapes of models people inspect (the real models' dimensions).
inline RandomModelSpec shapeSpec(const std::string& name) {
    RandomModelSpec s;
    if (name == "stories260k") {
        s.nLayers = 5; s.nHeads = 8; s.nKvHeads = 4; s.headDim = 8; s.dModel = 64; s.dFF = 172; s.vocabSize = 512;
    } else if (name == "attnscope-tiny") {  // the built-in default model
        s.nLayers = 6; s.nHeads = 8; s.nKvHeads = 2; s.headDim = 32; s.dModel = 256; s.dFF = 256; s.vocabSize = 4096;
    } else if (name == "llama-3.2-1b") {
        s.nLayers = 16; s.nHeads = 32; s.nKvHeads = 8; s.headDim = 64; s.dModel = 2048; s.dFF = 8192;
        s.vocabSize = 128256; s.ropeTheta = 500000;
    } else if (name == "llama-3.1-8b") {
        s.nLayers = 32; s.nHeads = 32; s.nKvHeads = 8; s.headDim = 128; s.dModel = 4096; s.dFF = 14336;
        s.vocabSize = 128256; s.ropeTheta = 500000; s.tiedEmbeddings = false;
    } else {
        fail(ErrorKind::BadInput, "unknown shape " + name + " (stories260k, attnscope-tiny, llama-3.2-1b, llama-3.1-8b)");
    }
    return s;
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Wall time of f, with queued GPU work finished before and after.
template <class F>
double seconds(F&& f) {
    synchronizeDevice();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    synchronizeDevice();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline std::string arg(int argc, char** argv, const char* key, const char* fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == key) return argv[i + 1];
    return fallback;
}

// Opens the model at `modelDir` and returns the ids (with BOS) of `sourceDir`'s
// tests/data/heldout_slice.txt, at most `maxTokens` of them: the benches' usual prompt.
inline std::vector<int32_t> openOnHeldOut(Inspector& inspector, const std::string& modelDir,
                                          const std::string& sourceDir, size_t maxTokens = SIZE_MAX) {
    OpenOptions o;
    o.path = modelDir;
    inspector.open(o);
    std::ifstream in(sourceDir + "/tests/data/heldout_slice.txt");
    if (!in) fail(ErrorKind::NotFound, sourceDir + "/tests/data/heldout_slice.txt: cannot read");
    std::stringstream text;
    text << in.rdbuf();
    std::vector<int32_t> ids = inspector.tokenize(text.str(), true);
    ids.resize(std::min(ids.size(), maxTokens));
    return ids;
}

}  // namespace attnscope::bench
