// attnscope-bench-longctx: long-context forward + all-layer attention statistics on CUDA (issue 10).
//
//   attnscope-bench-longctx --shape llama-3.1-8b --lengths 1024,4096,8192,32768,131072
//                           [--repeats 3] [--long-repeats 1] [--map 256] [--json out.jsonl]
//   attnscope-bench-longctx --kernel 8192 --shape llama-3.1-8b [--header 0]  (kernels alone vs libtorch)
//
// (a) Model::run with statistics computed while the forward runs (statsDuringForward, no q/k
// kept; column sums, causal means, last-64 window sums and entropies of every head copied to
// pinned host memory; the first pass is the fused attention forward's row LSE and entropy is
// summed in the single statistics pass), (a') the same plus pooled max/mean maps of every head
// (own first pass), (a-) the statistics without row entropy, and the same forward with no trace. Random bf16 weights; times are medians after a warm-up run
// (lengths >= 64K: --long-repeats runs, no warm-up), CUDA-synchronized; peak GPU memory
// includes the weights. bench/longctx_table.py merges this with bench/hf_eager_baseline.py.
#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "attnscope/trace_memory.h"
#include "bench_util.h"
#include "trace/attention_stats_impl.h"
#include "trace/layer_stats.h"

using namespace attnscope;
using namespace attnscope::bench;

namespace {

std::vector<int64_t> parseLengths(const std::string& s) {
    std::vector<int64_t> out;
    std::stringstream ls(s);
    for (std::string x; std::getline(ls, x, ',');) out.push_back(std::stoll(x));
    return out;
}

template <class F>
double medianSeconds(int runs, F&& f) {
    std::vector<double> t;
    for (int r = 0; r < runs; ++r) t.push_back(seconds(f));
    return median(t);
}

// The statistics kernels alone on one layer of the shape vs libtorch matmul + softmax.
int kernelBench(const std::string& shape, const RandomModelSpec& s, int64_t T, int repeats) {
    at::manual_seed(0);
    auto opts = at::TensorOptions().device(at::kCUDA).dtype(at::kBFloat16);
    at::Tensor q = at::randn({T, s.nHeads, s.headDim}, opts), k = at::randn({T, s.nKvHeads, s.headDim}, opts);
    const double scale = 1.0 / std::sqrt(double(s.headDim));
    const core::QkView v{q, k, scale, 0};
    StatsOptions o;
    o.windowLast = 64;
    auto ours = [&](int map) { core::computeLayerStats(v, o, map, map); };
    ours(256);
    const double tk = medianSeconds(repeats, [&] { ours(0); });
    const double tkMap = medianSeconds(repeats, [&] { ours(256); });
    // With the flash forward's row LSE given, pass 2 alone (it sums the entropy too).
    double tkLse = 0;
#if TORCH_VERSION_MAJOR >= 3 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
    {
        auto heads = [](const at::Tensor& t) { return t.permute({1, 0, 2}).unsqueeze(0); };
        const at::Tensor kx = heads(k.repeat_interleave(s.nHeads / s.nKvHeads, 1));
        const at::Tensor lse = std::get<1>(at::_scaled_dot_product_flash_attention(heads(q), kx, kx, 0.0, true, false, scale))[0];
        core::computeLayerStats(v, o, 0, 0, lse);
        tkLse = medianSeconds(repeats, [&] { core::computeLayerStats(v, o, 0, 0, lse); });
    }
#endif
    // libtorch: per group of heads, bf16 logits, causal mask, float32 softmax, column sums and entropy.
    const int64_t G = s.nHeads / s.nKvHeads, chunk = std::max<int64_t>(1, int64_t(8) * 1024 * 1024 * 1024 / (T * T * 6));
    const at::Tensor mask = at::ones({T, T}, opts.dtype(at::kBool)).triu(1);
    auto reference = [&] {
        for (int64_t h0 = 0; h0 < s.nHeads; h0 += chunk) {
            const int64_t h1 = std::min<int64_t>(s.nHeads, h0 + chunk);
            at::Tensor qh = q.slice(1, h0, h1).permute({1, 0, 2});                                  // [c,T,d]
            at::Tensor kh = k.index_select(1, at::div(at::arange(h0, h1, q.options().dtype(at::kLong)), G, "floor")).permute({1, 2, 0});
            at::Tensor p = at::softmax(at::matmul(qh, kh).mul_(scale).masked_fill_(mask, -INFINITY), -1, at::kFloat);
            at::Tensor col = p.sum(1);
            at::Tensor ent = -(p * at::log(p.clamp_min(1e-30))).sum(-1);
            (void)col;
            (void)ent;
        }
    };
    reference();
    const double tr = medianSeconds(repeats, reference);
    // Useful work: the visible (causal) logits, computed once per pass.
    const double flops = 2.0 * 2.0 * s.headDim * double(T) * double(T + 1) / 2 * s.nHeads;
    std::printf("| %s | %lld | %d/%d | %d | %.2f | %.2f | %.2f | %.2f | %.1f | %.0f | %.1f%% | %.0f |\n", shape.c_str(), (long long)T,
                s.nHeads, s.nKvHeads, s.headDim, tk * 1e3, tkMap * 1e3, tkLse * 1e3, tr * 1e3, tr / tk, flops / tk / 1e12,
                100 * flops / tk / 989e12, tkLse > 0 ? flops / 2 / tkLse / 1e12 : 0.0);
    std::fflush(stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string shape = arg(argc, argv, "--shape", "llama-3.2-1b");
    const int repeats = std::stoi(arg(argc, argv, "--repeats", "3"));
    const int longRepeats = std::stoi(arg(argc, argv, "--long-repeats", "1"));
    const int map = std::stoi(arg(argc, argv, "--map", "256"));
    const std::string jsonPath = arg(argc, argv, "--json", "");
    const std::vector<int64_t> lengths = parseLengths(arg(argc, argv, "--lengths", "1024,4096,8192"));
    RandomModelSpec spec = shapeSpec(shape);
    spec.device = Device::CUDA;
    spec.dtype = DType::BF16;
    if (const int64_t kt = std::stoll(arg(argc, argv, "--kernel", "0")); kt > 0) {
        if (arg(argc, argv, "--header", "1") != std::string("0")) {
            std::printf("| shape | T | heads | d | stats kernels, 2 passes (ms) | + 256x256 maps (ms) | pass 2 alone, flash LSE given (ms) | libtorch matmul+softmax (ms) | speed-up (2 passes) | TFLOP/s (2 passes) | of 989 peak | TFLOP/s (pass 2 alone) |\n");
            std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        }
        return kernelBench(shape, spec, kt, repeats);
    }
    spec.contextLength = int(*std::max_element(lengths.begin(), lengths.end()));
    std::unique_ptr<Model> model = Model::random(spec);
    const ModelInfo& info = model->info();
    FILE* json = jsonPath.empty() ? nullptr : std::fopen(jsonPath.c_str(), "a");
    std::printf("# attnscope-bench-longctx: %s (random bf16 weights), %d layers, %d/%d heads, d=%d, map %dx%d\n\n",
                shape.c_str(), info.nLayers, info.nHeads, info.nKvHeads, info.headDim, map, map);
    std::printf("| T | forward (s) | (a) forward + all-layer stats (s) | peak GPU GiB (a) | (a') + %dx%d maps (s) | (a-) no entropy, flash LSE (s) | kept host MiB (a') | planned (a') |\n", map, map);
    std::printf("|---|---|---|---|---|---|---|---|\n");
    RunOptions bare;  // no trace kept beyond the last logits
    bare.trace.keepQk = bare.trace.keepResidual = bare.trace.keepPreRope = false;
    bare.trace.keepValues = bare.trace.keepMlp = bare.trace.keepLogits = false;
    RunOptions stats = bare;
    stats.trace.onDevice = false;
    stats.trace.statsDuringForward = true;
    stats.trace.stats.windowLast = 64;
    RunOptions lean = stats;  // no entropy: the flash forward's row LSE replaces pass 1
    lean.trace.stats.entropy = false;
    RunOptions maps = stats;
    maps.trace.overviewRows = maps.trace.overviewCols = map;
    for (const int64_t T : lengths) {
        std::vector<int32_t> ids(static_cast<size_t>(T));
        for (int64_t i = 0; i < T; ++i) ids[size_t(i)] = int32_t((i * 7919 + 13) % info.vocabSize);
        const bool longRun = T >= 65536;
        const int runs = longRun ? longRepeats : repeats;
        if (!longRun) {
            model->run(ids, bare);
            model->run(ids, stats);
            model->run(ids, maps);
            model->run(ids, lean);
        }
        const double tf = medianSeconds(runs, [&] { model->run(ids, bare); });
        resetPeakDeviceMemory();
        const double ta = medianSeconds(runs, [&] { model->run(ids, stats); });
        const double peak = peakDeviceMemoryBytes() / 1073741824.0;
        int64_t traceBytes = 0;
        const double tm = medianSeconds(runs, [&] { traceBytes = model->run(ids, maps)->memoryBytes(); });
        const double tl = medianSeconds(runs, [&] { model->run(ids, lean); });
        const TraceMemoryPlan plan = planTraceMemory(info, T, maps.trace);
        std::printf("| %lld | %.3f | %.3f | %.2f | %.3f | %.3f | %.0f | %s |\n", (long long)T, tf, ta, peak, tm, tl,
                    traceBytes / 1048576.0, plan.summary.c_str());
        std::fflush(stdout);
        if (json) {
            std::fprintf(json, "{\"impl\": \"ours\", \"shape\": \"%s\", \"T\": %lld, \"forward_s\": %.4f, \"stats_s\": %.4f, "
                         "\"peak_gib\": %.3f, \"maps_s\": %.4f, \"lean_s\": %.4f, \"runs\": %d}\n", shape.c_str(), (long long)T, tf, ta, peak, tm, tl, runs);
            std::fflush(json);
        }
    }
    if (json) std::fclose(json);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-bench-longctx: %s\n", e.what());
    return 1;
}
