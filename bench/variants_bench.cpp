// attnscope-bench-variants: the attention-variants lab's costs (issue 19).
//
//   attnscope-bench-variants [--model DIR | --shape llama-3.2-1b] [--tokens 1024] [--repeats 3] [--layer L]
//
// On one prompt (the built-in model on tests/data/heldout_slice.txt by default; a random-weight
// model of --shape on random ids otherwise), median of --repeats, CPU:
//   parameter edit - Inspector::variantHead for one head (what a live parameter edit asks for:
//                    softmax and the variant's T x T maps, outputs and metrics), per variant;
//   layer table    - Inspector::variants over every head of the layer, every variant, no end to end;
//   end to end     - one variant substituted in the layer (two forwards and the KL per position).
// The panel's target is a parameter edit within 100 ms at 1K tokens for the map variants.
// With --long N: a random-weight model of the default RandomModelSpec shape on N random ids, a
// head's pair as the panel first asks for it (the whole map pooled to 1024 x 1024 cells, every
// query's metrics and entropy) and a zoomed exact 256 x 256 tile, computed block by block of
// query rows; the peak resident memory shows no T x T map is ever held.
#include "bench_util.h"

#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "attnscope/analyses/variants.h"
#include "attnscope/inspector.h"

using namespace attnscope;
using namespace attnscope::bench;

int main(int argc, char** argv) try {
    const int repeats = std::max(1, std::stoi(arg(argc, argv, "--repeats", "3")));
    const int64_t tokens = std::stoll(arg(argc, argv, "--tokens", "1024"));
    const std::string shape = arg(argc, argv, "--shape", "");
    const int layer = std::stoi(arg(argc, argv, "--layer", "1"));
    Inspector inspector;
    std::vector<int32_t> ids;
    std::string what;
    if (shape.empty()) {
        const std::string model = arg(argc, argv, "--model", ATTNSCOPE_SOURCE_DIR "/resources/models/attnscope-tiny");
        ids = openOnHeldOut(inspector, model, ATTNSCOPE_SOURCE_DIR, size_t(tokens));
        what = model + " on heldout_slice.txt";
    } else {
        RandomModelSpec spec = shapeSpec(shape);
        spec.contextLength = int(std::max<int64_t>(tokens, 16));
        inspector.adopt(Model::random(spec));
        std::mt19937 rng(1);
        for (int64_t i = 0; i < tokens; ++i) ids.push_back(int32_t(rng() % uint32_t(spec.vocabSize)));
        what = shape + " (random weights) on random ids";
    }
    const ModelInfo& info = inspector.info();
    std::printf("# attnscope-bench-variants: %s, %lld tokens, layer %d, cpu\n\n", what.c_str(), (long long)ids.size(),
                layer);
    std::printf("%d layers, %d/%d heads of %d. Milliseconds, median of %d.\n\n", info.nLayers, info.nHeads,
                info.nKvHeads, info.headDim, repeats);
    inspector.setPromptIds(ids);
    inspector.variantHead(layer, 0, {"softmax", {}});  // the trace, once

    std::printf("| variant | family | parameter edit (1 head, ms) |\n|---|---|---|\n");
    for (const VariantInfo& v : variantInfos()) {
        std::vector<double> ms;
        for (int r = 0; r < repeats; ++r)
            ms.push_back(1e3 * seconds([&] { inspector.variantHead(layer, 0, {v.name, {}}); }));
        std::printf("| %s | %s | %.1f |\n", v.name.c_str(), variantFamilyName(v.family), median(ms));
        std::fflush(stdout);
    }
    VariantsRequest table;
    table.layer = layer;
    std::vector<double> tableS;
    for (int r = 0; r < repeats; ++r) tableS.push_back(seconds([&] { inspector.variants(table); }));
    VariantsRequest e2e;
    e2e.layer = layer;
    e2e.variants = {{"elu_linear", {}}};
    e2e.substitute = true;
    std::vector<double> e2eS;
    for (int r = 0; r < repeats; ++r) e2eS.push_back(seconds([&] { inspector.variants(e2e); }));
    std::printf("\n| step | seconds |\n|---|---|\n");
    std::printf("| layer table: %zu variants x %d heads | %.3f |\n", variantInfos().size(), info.nHeads,
                median(tableS));
    std::printf("| end to end: elu_linear in layer %d, every head | %.3f |\n", layer, median(e2eS));

    if (const int64_t T = std::stoll(arg(argc, argv, "--long", "0")); T > 0) {
        RandomModelSpec spec;
        spec.contextLength = int(T);
        Inspector big;
        big.adopt(Model::random(spec));
        std::mt19937 rng(2);
        std::vector<int32_t> longIds;
        for (int64_t i = 0; i < T; ++i) longIds.push_back(int32_t(rng() % uint32_t(spec.vocabSize)));
        big.setPromptIds(longIds);
        big.variantHead(1, 0, {"softmax", {}}, {0, 8, 0, 8});  // the trace, once
        rusage traced{};
        getrusage(RUSAGE_SELF, &traced);
        std::printf("\n# long prompt: %lld tokens, random weights (%d heads of %d), layer 1 head 0\n\n", (long long)T,
                    spec.nHeads, spec.headDim);
        std::printf("| variant | whole view, pooled, with every row's metrics (s) | then a 256 x 256 zoom tile (s) |\n"
                    "|---|---|---|\n");
        for (const char* name : {"softmax", "window", "topk", "elu_linear", "sinkhorn"}) {
            const double whole = seconds([&] { big.variantHead(1, 0, {name, {}}); });
            const double zoom = seconds([&] { big.variantHead(1, 0, {name, {}}, {T - 256, T, T - 256, T}); });
            std::printf("| %s | %.2f | %.2f |\n", name, whole, zoom);
            std::fflush(stdout);
        }
        rusage use{};
        getrusage(RUSAGE_SELF, &use);
        std::printf("\nPeak resident memory: %.0f MB after the model's forward and trace, %.0f MB after the lab's "
                    "requests (one T x T float64 map: %.0f MB).\n",
                    double(traced.ru_maxrss) / 1024.0, double(use.ru_maxrss) / 1024.0,
                    double(T) * double(T) * 8 / 1048576.0);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench-variants: %s\n", e.what());
    return 1;
}
