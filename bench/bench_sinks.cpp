// attnscope-bench-sinks: cost of the sinks analysis (issue 5) on long prompts.
//
//   attnscope-bench-sinks [--shape stories260k|llama-3.2-1b] [--device cpu|cuda]
//                         [--lengths 1024,16384] [--repeats 20]
//
// A random-weight model of the named shape (stories260K's own context is 512, so long
// prompts need Model::random). Per length: forward+trace, computeSinkInputs (all-layer exact
// attention statistics + hidden/MLP geometry), classifySinks (median of --repeats parameter
// edits), trace and input sizes, and the process's peak resident memory so far.
#include "bench_util.h"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "attnscope/analyses/sinks.h"
#include "attnscope/device_stats.h"
#include "attnscope/error.h"
#include "attnscope/model.h"

using namespace attnscope;

using namespace attnscope::bench;

namespace {

int64_t inputBytes(const SinkInputs& in) {
    int64_t n = 0;
    for (const std::vector<float>* v : {&in.headAlpha, &in.sinkScore, &in.scoreMedian, &in.hiddenNorm, &in.hiddenMaxAbs,
                                        &in.hiddenMedianAbs, &in.hiddenCos, &in.mlpNorm, &in.mlpCos})
        n += int64_t(v->size() * sizeof(float));
    return n;
}

// The panel's budget is per parameter edit at 1K tokens; a 5-layer model is far below it,
// so also time the shape of a mid-size model from random inputs.
double syntheticClassifyMs(int repeats) {
    const int L = 32, H = 32;
    const int64_t T = 1024, R = 4;
    SinkInputs in;
    in.T = T;
    in.nLayers = L;
    in.nHeads = H;
    in.ids.assign(size_t(T), 1);
    in.references = {0, 1, 2, 3};
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    const auto fill = [&](std::vector<float>& v, size_t n, float scale) {
        v.resize(n);
        for (float& x : v) x = u(rng) * scale;
    };
    fill(in.headAlpha, size_t(L * H * T), 0.5f);
    fill(in.sinkScore, size_t(L * T), 0.1f);
    fill(in.scoreMedian, size_t(L), 0.01f);
    fill(in.hiddenNorm, size_t(L * T), 10.f);
    fill(in.hiddenMaxAbs, size_t(L * T), 10.f);
    fill(in.hiddenMedianAbs, size_t(L), 1.f);
    fill(in.hiddenCos, size_t(R * L * T), 1.f);
    fill(in.mlpNorm, size_t(L * T), 10.f);
    fill(in.mlpCos, size_t(R * L * T), 1.f);
    std::vector<double> ms;
    SinkParams p;
    for (int r = 0; r < repeats; ++r) {
        p.cosThreshold = 0.5 + 0.4 * r / repeats;
        ms.push_back(seconds([&] { classifySinks(in, p); }) * 1e3);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string shape = arg(argc, argv, "--shape", "stories260k");
    const int repeats = std::max(1, std::stoi(arg(argc, argv, "--repeats", "20")));
    std::vector<int64_t> lengths;
    std::stringstream ls(arg(argc, argv, "--lengths", "1024,16384"));
    for (std::string x; std::getline(ls, x, ',');) lengths.push_back(std::stoll(x));
    RandomModelSpec spec = shapeSpec(shape);
    spec.contextLength = int(*std::max_element(lengths.begin(), lengths.end()));
    spec.device = parseDevice(arg(argc, argv, "--device", "cpu"));
    auto model = Model::random(spec);
    const ModelInfo& info = model->info();
    std::printf("# attnscope-bench-sinks: %s (random weights), %d layers, %d/%d heads, d=%d, %s\n\n", shape.c_str(),
                info.nLayers, info.nHeads, info.nKvHeads, info.dModel, deviceName(info.device));
    std::printf("| T | forward+trace (s) | computeSinkInputs (s) | classifySinks median (ms) | trace MiB | inputs MiB "
                "| peak host MiB after forward | peak host MiB after sinks | peak GPU MiB |\n"
                "|---|---|---|---|---|---|---|---|---|\n");
    for (int64_t T : lengths) {
        std::vector<int32_t> ids(static_cast<size_t>(T));
        for (int64_t i = 0; i < T; ++i) ids[size_t(i)] = int32_t((i * 7919 + 13) % info.vocabSize);
        // What the sinks verb keeps: q/k, resid_out, mlp_out.
        RunOptions ro;
        ro.trace.keepPreRope = ro.trace.keepValues = ro.trace.keepLogits = false;
        resetPeakDeviceMemory();
        std::unique_ptr<Trace> trace;
        const double tf = seconds([&] { trace = model->run(ids, ro); });
        const int64_t peakForward = peakHostMemoryBytes();
        SinkInputs in;
        const double ti = seconds([&] { in = computeSinkInputs(*trace, 0); });
        std::vector<double> tc;
        SinkParams p;
        size_t sinks = 0;
        for (int r = 0; r < repeats; ++r) {
            p.epsilon = 0.1 + 0.4 * r / repeats;  // a parameter edit per repeat
            tc.push_back(seconds([&] { sinks = classifySinks(in, p).sinks.size(); }));
        }
        std::sort(tc.begin(), tc.end());
        std::printf("| %lld | %.3f | %.3f | %.2f | %.1f | %.1f | %.0f | %.0f | %.0f |\n", (long long)T, tf, ti,
                    tc[tc.size() / 2] * 1e3, trace->memoryBytes() / 1048576.0, inputBytes(in) / 1048576.0,
                    peakForward / 1048576.0, peakHostMemoryBytes() / 1048576.0, peakDeviceMemoryBytes() / 1048576.0);
        std::fprintf(stderr, "T=%lld: %zu sink tokens\n", (long long)T, sinks);
        std::fflush(stdout);
    }
    std::printf("\nclassifySinks on synthetic inputs of a 32-layer, 32-head model at T=1024 (no model run): "
                "median %.2f ms over %d edits\n", syntheticClassifyMs(repeats), repeats);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench-sinks: %s\n", e.what());
    return 1;
}
