// attnscope-bench: forward + trace throughput and all-layer attention statistics time.
//
//   attnscope-bench [--shape stories260k|llama-3.2-1b|llama-3.1-8b] [--device cpu|cuda]
//                   [--dtype fp32|bf16|fp16] [--lengths 512,2048,8192] [--repeats 3]
//                   [--block 256] [--model PATH --tokenizer PATH]
//
// Random-weight models of the named shape (context sized to the longest length), or a
// real model with --model. Prints one markdown table; times are medians after a warm-up.
#include "bench_util.h"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "attnscope/device_stats.h"
#include "attnscope/error.h"
#include "attnscope/model.h"

using namespace attnscope;

using namespace attnscope::bench;

int main(int argc, char** argv) try {
    const std::string shape = arg(argc, argv, "--shape", "stories260k");
    const Device device = parseDevice(arg(argc, argv, "--device", "cpu"));
    const DType dtype = parseDType(arg(argc, argv, "--dtype", "fp32"));
    const int repeats = std::stoi(arg(argc, argv, "--repeats", "3"));
    const int64_t block = std::stoll(arg(argc, argv, "--block", "256"));
    const std::string modelPath = arg(argc, argv, "--model", "");
    std::vector<int64_t> lengths;
    std::stringstream ls(arg(argc, argv, "--lengths", "512,2048,8192"));
    for (std::string x; std::getline(ls, x, ',');) lengths.push_back(std::stoll(x));

    std::unique_ptr<Model> model;
    if (!modelPath.empty()) {
        OpenOptions o;
        o.path = modelPath;
        o.tokenizerPath = arg(argc, argv, "--tokenizer", "");
        o.device = device;
        o.dtype = dtype;
        model = Model::open(o);
    } else {
        RandomModelSpec s = shapeSpec(shape);
        s.contextLength = int(*std::max_element(lengths.begin(), lengths.end()));
        s.device = device;
        s.dtype = dtype;
        model = Model::random(s);
    }
    const ModelInfo& info = model->info();
    std::printf("# attnscope-bench: %s (%s), %d layers, %d/%d heads, d=%d, %.1fM params, %s %s, stats block %lld\n\n",
                modelPath.empty() ? shape.c_str() : modelPath.c_str(), modelPath.empty() ? "random weights" : "real weights",
                info.nLayers, info.nHeads, info.nKvHeads, info.dModel, info.nParams / 1e6, deviceName(device),
                dtypeName(dtype), (long long)block);
    std::printf("| T | forward+trace (s) | tokens/s | trace MiB | trace bytes/token/layer | all-layer stats (s) | peak host MiB | peak GPU MiB |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (int64_t T : lengths) {
        if (T > info.contextLength) {
            std::printf("| %lld | skipped: longer than the context (%d) | | | | | | |\n", (long long)T, info.contextLength);
            continue;
        }
        std::vector<int32_t> ids(static_cast<size_t>(T));
        for (int64_t i = 0; i < T; ++i) ids[size_t(i)] = int32_t((i * 7919 + 13) % info.vocabSize);
        RunOptions ro;
        ro.trace.keepLogits = false;  // [T, V] logits would dwarf the trace at 128K vocab
        StatsOptions so;
        so.blockQ = so.blockK = block;
        model->run(std::vector<int32_t>(ids.begin(), ids.begin() + std::min<int64_t>(T, 64)), ro);  // warm-up
        resetPeakDeviceMemory();
        std::vector<double> tf, ts;
        int64_t traceBytes = 0;
        for (int r = 0; r < repeats; ++r) {
            std::unique_ptr<Trace> trace;
            tf.push_back(seconds([&] { trace = model->run(ids, ro); }));
            traceBytes = trace->memoryBytes();
            ts.push_back(seconds([&] {
                for (int l = 0; l < trace->nLayers(); ++l) trace->layerStats(l, so);
            }));
        }
        const double f = median(tf), s = median(ts);
        std::printf("| %lld | %.3f | %.0f | %.1f | %lld | %.3f | %.0f | %.0f |\n", (long long)T, f, T / f,
                    traceBytes / 1048576.0, (long long)(traceBytes / T / info.nLayers), s,
                    peakHostMemoryBytes() / 1048576.0, peakDeviceMemoryBytes() / 1048576.0);
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench: %s\n", e.what());
    return 1;
}
