// attnscope-bench-heads: the head-role detectors, every layer as the GUI asks for them.
//
//   attnscope-bench-heads [--shape attnscope-tiny] [--lengths 1024,4096,16384] [--repeats 3]
//
// Side by side in one process, on one prompt (random weights of the shape, CPU, f32), seconds for
// every layer of: the four statistics detectors (entropy, first token, previous token, diagonal:
// one exact statistics pass per layer, what the grid showed before the detectors); the prompt's
// pattern scores (duplicate token, induction: the rows with a pattern entry); induction on the
// repeated random sequence (its own forward of 2n + 1 tokens, then n − 1 rows); the OV copying
// score (weights only); the streaming-error retrieval proxy (the last quarter's rows); all of them
// at once (the GUI's and the CLI's default). The prompt repeats every 997 tokens.
#include "bench_util.h"

#include <cstdio>
#include <sstream>

#include "attnscope/inspector.h"

using namespace attnscope;
using namespace attnscope::bench;

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
    std::printf("Seconds for every layer (median of %d); the prompt traced once, as the GUI keeps it.\n\n", repeats);
    const std::vector<std::pair<std::string, std::vector<std::string>>> groups = {
        {"statistics (4)", {"entropy", "first_token", "previous_token", "diagonal"}},
        {"duplicate + induction", {"duplicate_token", "induction"}},
        {"induction_repeated (n=50)", {"induction_repeated"}},
        {"copying", {"copying"}},
        {"retrieval", {"retrieval"}},
        {"all (default)", {}}};
    std::printf("| T |");
    for (const auto& g : groups) std::printf(" %s |", g.first.c_str());
    std::printf("\n|---|");
    for (size_t i = 0; i < groups.size(); ++i) std::printf("---|");
    std::printf("\n");
    Inspector inspector;
    inspector.adopt(std::move(model));
    for (int64_t T : lengths) {
        std::vector<int32_t> ids(static_cast<size_t>(T));
        for (int64_t i = 0; i < T; ++i) ids[size_t(i)] = int32_t((i % 997) * 7919 % spec.vocabSize);
        TracePolicy policy = viewTracePolicy();
        policy.keepValues = true;  // retrieval reads the values: no re-trace inside the timings
        inspector.setPrompt(ids, {}, policy);
        std::printf("| %lld |", (long long)T);
        for (const auto& [name, detectors] : groups) {
            std::vector<double> times;
            for (int r = 0; r < repeats; ++r) {
                HeadDetectorParams p;
                p.detectors = detectors;
                p.seed = uint64_t(r);  // a new shared state each repeat: the repeated run is timed too
                times.push_back(seconds([&] { (void)inspector.headScores(p); }));
            }
            std::printf(" %.3f |", median(times));
            std::fflush(stdout);
        }
        std::printf("\n");
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench-heads: %s\n", e.what());
    return 1;
}
