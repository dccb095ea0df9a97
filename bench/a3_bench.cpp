// attnscope-bench-a3: the A^3 lab's costs (issue 18).
//
//   attnscope-bench-a3 [--model DIR | --shape llama-3.2-1b] [--tokens 1024] [--repeats 3] [--device cpu|cuda]
//
// On one prompt (the built-in model on tests/data/heldout_slice.txt by default; a random-weight
// model of --shape on random ids otherwise), median of --repeats:
//   trace      - the forward pass keeping what A^3 reads (pre-RoPE q/k, head outputs, MLP inputs);
//   moments    - A3Accumulator over the calibration half of the rows (once per prompt);
//   sweep      - computeA3 at 5 rank fractions, every layer x component with its baseline;
//   rank edit  - computeA3 at one fraction (what a rank slider asks for; the moments are kept).
#include "bench_util.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "attnscope/analyses/a3.h"

using namespace attnscope;
using namespace attnscope::bench;

int main(int argc, char** argv) try {
    const int repeats = std::max(1, std::stoi(arg(argc, argv, "--repeats", "3")));
    const int64_t tokens = std::stoll(arg(argc, argv, "--tokens", "1024"));
    const std::string shape = arg(argc, argv, "--shape", "");
    const Device device = parseDevice(arg(argc, argv, "--device", "cpu"));
    std::unique_ptr<Model> model;
    std::vector<int32_t> ids;
    std::string what;
    if (shape.empty()) {
        OpenOptions o;
        o.path = arg(argc, argv, "--model", ATTNSCOPE_SOURCE_DIR "/resources/models/attnscope-tiny");
        o.device = device;
        model = Model::open(o);
        std::ifstream in(ATTNSCOPE_SOURCE_DIR "/tests/data/heldout_slice.txt");
        std::stringstream text;
        text << in.rdbuf();
        ids = model->tokenize(text.str(), true);
        ids.resize(std::min<size_t>(ids.size(), size_t(tokens)));
        what = o.path + " on heldout_slice.txt";
    } else {
        RandomModelSpec spec = shapeSpec(shape);
        spec.contextLength = int(std::max<int64_t>(tokens, 16));
        spec.device = device;
        model = Model::random(spec);
        std::mt19937 rng(1);
        for (int64_t i = 0; i < tokens; ++i) ids.push_back(int32_t(rng() % uint32_t(spec.vocabSize)));
        what = shape + " (random weights) on random ids";
    }
    const ModelInfo& info = model->info();
    const int64_t T = int64_t(ids.size()), half = T / 2;
    std::printf("# attnscope-bench-a3: %s, %lld tokens (calibration %lld, held out %lld), %s\n\n", what.c_str(),
                (long long)T, (long long)half, (long long)(T - half), deviceName(info.device));
    std::printf("%d layers, %d/%d heads of %d, d_model %d, d_ff %d. Seconds, median of %d.\n\n", info.nLayers,
                info.nHeads, info.nKvHeads, info.headDim, info.dModel, info.dFF, repeats);

    std::vector<double> traceS, momentS, sweepS, editS;
    for (int r = 0; r < repeats; ++r) {
        std::unique_ptr<Trace> trace;
        traceS.push_back(seconds([&] { trace = model->run(ids); }));
        std::shared_ptr<const A3Stats> stats;
        momentS.push_back(seconds([&] {
            A3Accumulator acc(*model);
            acc.add(*trace, 0, half);
            stats = acc.finish();
        }));
        std::fprintf(stderr, "repeat %d: trace %.3f s, moments %.3f s\n", r, traceS.back(), momentS.back());
        sweepS.push_back(seconds([&] { computeA3(*model, *stats, *trace, half, {0.125, 0.25, 0.5, 0.75, 1.0}); }));
        std::fprintf(stderr, "repeat %d: sweep %.3f s\n", r, sweepS.back());
        editS.push_back(seconds([&] { computeA3(*model, *stats, *trace, half, {0.5}); }));
        std::fprintf(stderr, "repeat %d: rank edit %.3f s\n", r, editS.back());
    }
    std::printf("| step | seconds |\n|---|---|\n");
    std::printf("| trace (forward keeping A^3's captures) | %.3f |\n", median(traceS));
    std::printf("| moments (once per prompt) | %.3f |\n", median(momentS));
    std::printf("| sweep: 5 fractions x 3 components, with baselines | %.3f |\n", median(sweepS));
    std::printf("| rank edit: 1 fraction | %.3f |\n", median(editS));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench-a3: %s\n", e.what());
    return 1;
}
