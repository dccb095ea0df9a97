// attnscope-bench-heads: the head grid's scores, one layer at a time as the GUI asks for them.
//
//   attnscope-bench-heads [--shape attnscope-tiny] [--lengths 1024,4096,16384] [--repeats 3]
//
// Side by side in one process, on one trace (random weights of the shape, CPU, f32):
//   exact   - computeHeadLayerScores: one statistics pass that also keeps A[i,i] and A[i,i-1]
//             (what the GUI, the CLI and sessions compute since the facade);
//   before  - the GUI's former way: the same statistics pass for entropy and the first-token score,
//             then exact 256-row tiles along the diagonal for A[i,i] and A[i,i-1], rows sampled in
//             evenly spaced blocks adding up to 4096 above 4096 tokens (no longer in the product;
//             kept here as the reference the change is measured against).
#include "bench_util.h"

#include <cstdio>
#include <sstream>

#include "attnscope/analyses/head_scores.h"

using namespace attnscope;
using namespace attnscope::bench;

namespace {

void formerLayerScores(const Trace& trace, int layer) {
    constexpr int64_t kBlock = 256, kRows = 4096;
    const int64_t T = trace.length();
    std::vector<std::pair<int64_t, int64_t>> blocks;
    if (T <= kRows) {
        for (int64_t q0 = 0; q0 < T; q0 += kBlock) blocks.emplace_back(q0, std::min(T, q0 + kBlock));
    } else {
        const int64_t n = kRows / kBlock;
        for (int64_t b = 0; b < n; ++b) blocks.emplace_back(b * (T - kBlock) / (n - 1), b * (T - kBlock) / (n - 1) + kBlock);
    }
    const std::vector<HeadStats> stats = trace.layerStats(layer, StatsOptions{});
    volatile double sink = 0;
    for (int h = 0; h < trace.nHeads(); ++h) {
        sink = sink + stats[size_t(h)].entropy[0];
        for (const auto& [q0, q1] : blocks) {
            const int64_t k0 = std::max<int64_t>(0, q0 - 1);
            sink = sink + trace.attentionTile(layer, h, q0, q1, k0, q1).data[0];
        }
    }
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string shape = arg(argc, argv, "--shape", "attnscope-tiny");
    const int repeats = std::max(1, std::stoi(arg(argc, argv, "--repeats", "3")));
    std::vector<int64_t> lengths;
    std::stringstream ls(arg(argc, argv, "--lengths", "1024,4096,16384"));
    for (std::string s; std::getline(ls, s, ',');) lengths.push_back(std::stoll(s));
    RandomModelSpec spec = shapeSpec(shape);
    spec.contextLength = int(*std::max_element(lengths.begin(), lengths.end()));
    auto model = Model::random(spec);
    std::printf("# attnscope-bench-heads: %s (random weights), %d layers, %d/%d heads, d=%d, cpu\n\n", shape.c_str(),
                spec.nLayers, spec.nHeads, spec.nKvHeads, spec.headDim);
    std::printf("Seconds for every layer's scores (median of %d), on one trace kept as the GUI keeps it.\n\n", repeats);
    std::printf("| T | exact, one pass (s) | before: pass + diagonal tiles (s) | before / exact | rows behind the "
                "diagonal scores before |\n|---|---|---|---|---|\n");
    for (int64_t T : lengths) {
        std::vector<int32_t> ids(static_cast<size_t>(T));
        for (int64_t i = 0; i < T; ++i) ids[size_t(i)] = int32_t((i * 7919 + 13) % spec.vocabSize);
        RunOptions ro;
        ro.trace.keepPreRope = ro.trace.keepValues = ro.trace.keepLogits = false;
        const auto trace = model->run(ids, ro);
        std::vector<double> exact, before;
        for (int r = 0; r < repeats; ++r) {
            exact.push_back(seconds([&] {
                for (int l = 0; l < trace->nLayers(); ++l) computeHeadLayerScores(*trace, l);
            }));
            before.push_back(seconds([&] {
                for (int l = 0; l < trace->nLayers(); ++l) formerLayerScores(*trace, l);
            }));
        }
        const double e = median(exact), b = median(before);
        std::printf("| %lld | %.3f | %.3f | %.2f | %lld of %lld |\n", (long long)T, e, b, b / e,
                    (long long)std::min<int64_t>(T, 4096), (long long)T);
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench-heads: %s\n", e.what());
    return 1;
}
