// attnscope-check-cuda-stats: the fused CUDA statistics kernels against (1) the CPU blockwise
// reference (tiledHeadStats / pooledOverview on the same bf16/fp16-rounded q and k in
// float32) and (2) a dense float64 softmax written here from the reference formulas (§1.5),
// for bf16/fp16, GQA, causal and sliding-window masks, lengths that are not tile multiples.
// Exits 1 on any element with |gpu - ref| > 1e-3 * |ref| + 1e-6. Needs a CUDA device, no Qt.
#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "attnscope/model.h"
#include "trace/attention_stats_impl.h"
#include "trace/layer_stats.h"

using namespace attnscope;
using namespace attnscope::core;

namespace {

struct Case {
    int64_t T;
    int H, Hkv, d;
    at::ScalarType dtype;
    int64_t window, minQueryPos, windowLast;
    int rows, cols;
};

int g_failures = 0;

void compare(const char* what, const std::string& name, const at::Tensor& got, const at::Tensor& ref) {
    at::Tensor g = got.to(at::kCPU, at::kDouble), r = ref.to(at::kCPU, at::kDouble);
    const double err = ((g - r).abs() / (r.abs() * 1e-3 + 1e-6)).max().item<double>();  // <= 1 passes
    const double rel = ((g - r).abs() / (r.abs() + 1e-6)).max().item<double>();
    const bool ok = err <= 1.0 && !std::isnan(err);
    g_failures += !ok;
    std::printf("  %-4s %-14s max rel err %.2e  %s\n", ok ? "ok" : "FAIL", what, rel, name.c_str());
}

at::Tensor stack(const std::vector<HeadStats>& hs, std::vector<float> HeadStats::*f) {
    std::vector<at::Tensor> rows;
    for (const HeadStats& h : hs) rows.push_back(at::tensor(h.*f));
    return at::stack(rows);
}

// Dense float64 reference of one layer: A = softmax(mask(q k^T s)), [H, T, T].
at::Tensor denseProbs(const at::Tensor& q, const at::Tensor& k, double scale, int64_t window) {
    const int64_t T = q.size(0), H = q.size(1), G = H / k.size(1);
    at::Tensor qd = q.to(at::kDouble).permute({1, 0, 2});                                  // [H,T,d]
    at::Tensor kd = k.to(at::kDouble).repeat_interleave(G, 1).permute({1, 2, 0});          // [H,d,T]
    at::Tensor s = at::matmul(qd, kd) * scale;
    at::Tensor i = at::arange(T, at::kLong).unsqueeze(1), j = at::arange(T, at::kLong).unsqueeze(0);
    at::Tensor visible = j <= i;
    if (window > 0) visible = visible.logical_and(i - j < window);
    return at::softmax(s.masked_fill(visible.logical_not(), -INFINITY), -1);
}

void runCase(const Case& c) {
    const std::string name = "T=" + std::to_string(c.T) + " H=" + std::to_string(c.H) + "/" + std::to_string(c.Hkv) +
                             " d=" + std::to_string(c.d) + (c.dtype == at::kHalf ? " fp16" : " bf16") +
                             " window=" + std::to_string(c.window) + " minQ=" + std::to_string(c.minQueryPos) +
                             " last=" + std::to_string(c.windowLast) + " map=" + std::to_string(c.rows) + "x" +
                             std::to_string(c.cols);
    std::printf("%s\n", name.c_str());
    at::manual_seed(uint64_t(c.T * 31 + c.d));
    auto dev = at::TensorOptions().device(at::kCUDA).dtype(c.dtype);
    at::Tensor q = at::randn({c.T, c.H, c.d}, dev);
    at::Tensor k = at::randn({c.T, c.Hkv, c.d}, dev);
    k[0].add_(q.mean(0).view({c.Hkv, -1, c.d}).mean(1) * 4);  // a sink: peaked rows, small entropies
    const double scale = 1.0 / std::sqrt(double(c.d));
    StatsOptions o;
    o.minQueryPos = c.minQueryPos;
    o.windowLast = c.windowLast;
    o.blockQ = o.blockK = 128;
    // Without maps pass 2 keeps K in registers; with maps it stages logits in shared memory.
    const LayerStatTensors gpu = computeLayerStats({q, k, scale, c.window}, o, c.rows, c.cols);
    const LayerStatTensors plain = computeLayerStats({q, k, scale, c.window}, o, 0, 0);
    const std::vector<HeadStats> got = toHeadStats(gpu);

    const QkView cpu{q.to(at::kCPU, at::kFloat), k.to(at::kCPU, at::kFloat), scale, c.window};
    const std::vector<HeadStats> ref = tiledHeadStats(cpu, o);
    for (const auto* run : {&gpu, &plain}) {
        if (run == &plain && c.rows == 0) break;
        const std::vector<HeadStats> g = toHeadStats(*run);
        const std::string kind = run == &gpu && c.rows > 0 ? "vs CPU tiled (with maps)" : "vs CPU tiled";
        compare("colSum", kind, stack(g, &HeadStats::colSum), stack(ref, &HeadStats::colSum));
        compare("colMeanCausal", kind, stack(g, &HeadStats::colMeanCausal), stack(ref, &HeadStats::colMeanCausal));
        compare("entropy", kind, stack(g, &HeadStats::entropy), stack(ref, &HeadStats::entropy));
        if (c.windowLast > 0)
            compare("windowSum", kind, stack(g, &HeadStats::windowSum), stack(ref, &HeadStats::windowSum));
    }
#if TORCH_VERSION_MAJOR >= 3 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
    if (c.window == 0) {  // pass 1 replaced by the flash forward's row LSE; entropy then from pass 2
        auto heads = [](const at::Tensor& t) { return t.permute({1, 0, 2}).unsqueeze(0); };
        const at::Tensor kx = heads(k.repeat_interleave(c.H / c.Hkv, 1));
        const at::Tensor lse = std::get<1>(at::_scaled_dot_product_flash_attention(heads(q), kx, kx, 0.0, true, false, scale))[0];
        for (bool entropy : {true, false}) {
            StatsOptions lo = o;
            lo.entropy = entropy;
            const std::vector<HeadStats> g = toHeadStats(computeLayerStats({q, k, scale, 0}, lo, 0, 0, lse));
            const std::string kind = entropy ? "vs CPU tiled (flash LSE)" : "vs CPU tiled (flash LSE, no entropy)";
            compare("colSum", kind, stack(g, &HeadStats::colSum), stack(ref, &HeadStats::colSum));
            compare("colMeanCausal", kind, stack(g, &HeadStats::colMeanCausal), stack(ref, &HeadStats::colMeanCausal));
            if (entropy) compare("entropy", kind, stack(g, &HeadStats::entropy), stack(ref, &HeadStats::entropy));
            if (c.windowLast > 0) compare("windowSum", kind, stack(g, &HeadStats::windowSum), stack(ref, &HeadStats::windowSum));
        }
    }
#endif
    if (c.rows > 0)
        for (int h : {0, c.H - 1}) {
            compare("map max", "vs CPU pooledOverview head " + std::to_string(h), overviewFromStats(gpu, h, Pool::Max),
                    pooledOverview(cpu, h, 0, c.T, 0, c.T, c.rows, c.cols, Pool::Max));
            compare("map mean", "vs CPU pooledOverview head " + std::to_string(h), overviewFromStats(gpu, h, Pool::Mean),
                    pooledOverview(cpu, h, 0, c.T, 0, c.T, c.rows, c.cols, Pool::Mean));
        }
    if (c.T > 2048) return;
    // Independent dense reference from the definitions.
    const at::Tensor A = denseProbs(cpu.q, cpu.k, scale, c.window);  // [H,T,T]
    const at::Tensor rowIdx = at::arange(c.T, at::kLong).view({1, -1, 1});
    compare("colSum", "vs dense f64", stack(got, &HeadStats::colSum), A.sum(1));
    const at::Tensor keepR = (rowIdx >= c.minQueryPos).to(at::kDouble);
    at::Tensor i = at::arange(c.T, at::kLong).unsqueeze(1), j = at::arange(c.T, at::kLong).unsqueeze(0);
    at::Tensor vis = j <= i;
    if (c.window > 0) vis = vis.logical_and(i - j < c.window);
    const at::Tensor count = (vis.to(at::kDouble) * keepR[0]).sum(0);  // rows >= minQ that see j
    compare("colMeanCausal", "vs dense f64", stack(got, &HeadStats::colMeanCausal),
            (A * keepR).sum(1) / at::clamp_min(count, 1.0));
    const at::Tensor plogp = at::where(A > 0, A * A.log(), at::zeros_like(A));
    compare("entropy", "vs dense f64", stack(got, &HeadStats::entropy), -plogp.sum(-1));
    if (c.windowLast > 0)
        compare("windowSum", "vs dense f64", stack(got, &HeadStats::windowSum),
                (A * (rowIdx >= c.T - c.windowLast).to(at::kDouble)).sum(1));
}

// End to end: a random bf16 model on CUDA with statistics taken while the forward runs (with
// and without entropy, i.e. own first pass and flash LSE) against the CPU reference on the
// q/k that a default trace keeps.
void runModel() {
    std::printf("model: statistics while the forward runs vs CPU reference on the kept q/k\n");
    RandomModelSpec s;
    s.nLayers = 2; s.nHeads = 8; s.nKvHeads = 2; s.headDim = 64; s.dModel = 256; s.dFF = 512;
    s.vocabSize = 1000; s.contextLength = 2048; s.device = Device::CUDA; s.dtype = DType::BF16;
    auto model = Model::random(s);
    std::vector<int32_t> ids(1500);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 7919 + 13) % 1000);
    StatsOptions o;
    o.minQueryPos = 8;
    o.windowLast = 32;
    const auto full = model->run(ids);
    // The explorer's whole-map overview of a CUDA trace comes from the kernels' pooled maps.
    const int64_t T = int64_t(ids.size());
    for (int l = 0; l < s.nLayers; ++l) {
        const Matrix2D q = full->captured(Capture::Q, l), k = full->captured(Capture::K, l);
        QkView cpu;
        cpu.q = at::tensor(q.data).view({T, s.nHeads, s.headDim});
        cpu.k = at::tensor(k.data).view({T, s.nKvHeads, s.headDim});
        cpu.scale = 1.0 / std::sqrt(double(s.headDim));
        for (auto [head, pool] : {std::pair{3, Pool::Max}, std::pair{5, Pool::Mean}, std::pair{-1, Pool::Mean}}) {
            const Matrix2D got = full->overview(l, head, 0, T, 0, T, 64, 48, pool);
            const at::Tensor ref = pooledOverview(cpu, head, 0, T, 0, T, 64, 48, pool);
            compare("overview", "layer " + std::to_string(l) + " head " + std::to_string(head),
                    at::tensor(got.data).view({got.rows, got.cols}), ref);
        }
    }
    // Entropy with maps keeps the own first pass; without maps the flash LSE serves (with the
    // entropy summed in pass 2, or none).
    for (auto [entropy, maps] : {std::pair{true, true}, std::pair{true, false}, std::pair{false, false}}) {
        RunOptions ro;
        ro.trace.keepQk = ro.trace.keepResidual = ro.trace.keepPreRope = ro.trace.keepValues = ro.trace.keepMlp = false;
        ro.trace.onDevice = false;
        ro.trace.statsDuringForward = true;
        ro.trace.stats = o;
        ro.trace.stats.entropy = entropy;
        ro.trace.overviewRows = ro.trace.overviewCols = maps ? 64 : 0;
        const auto lean = model->run(ids, ro);
        for (int l = 0; l < s.nLayers; ++l) {
            const Matrix2D q = full->captured(Capture::Q, l), k = full->captured(Capture::K, l);
            const AttentionShape shape{int64_t(ids.size()), s.nHeads, s.nKvHeads, s.headDim, 0.f, 0};
            const std::vector<HeadStats> ref = computeAttentionStats(q.data, k.data, shape, o);
            const std::vector<HeadStats> got = lean->layerStats(l, ro.trace.stats);
            const std::string name = "layer " + std::to_string(l) + (maps ? " (own pass 1)" : entropy ? " (flash LSE)" : " (flash LSE, no entropy)");
            compare("colSum", name, stack(got, &HeadStats::colSum), stack(ref, &HeadStats::colSum));
            compare("colMeanCausal", name, stack(got, &HeadStats::colMeanCausal), stack(ref, &HeadStats::colMeanCausal));
            compare("windowSum", name, stack(got, &HeadStats::windowSum), stack(ref, &HeadStats::windowSum));
            if (entropy) compare("entropy", name, stack(got, &HeadStats::entropy), stack(ref, &HeadStats::entropy));
        }
    }
}

}  // namespace

int main() try {
    if (!at::hasCUDA()) {
        std::fprintf(stderr, "attnscope-check-cuda-stats: no CUDA device\n");
        return 2;
    }
    const std::vector<Case> cases = {
        {1000, 4, 2, 64, at::kBFloat16, 0, 16, 32, 37, 53},
        {2048, 4, 1, 128, at::kHalf, 300, 0, 100, 64, 64},
        {777, 2, 2, 128, at::kBFloat16, 0, 0, 0, 777, 200},
        {1500, 8, 2, 64, at::kHalf, 129, 40, 1500, 0, 0},
        {5000, 2, 1, 128, at::kBFloat16, 0, 64, 64, 256, 256},
        {3001, 4, 4, 128, at::kBFloat16, 0, 200, 333, 0, 0},
        {4096, 8, 2, 64, at::kBFloat16, 1000, 0, 64, 0, 0},
    };
    for (const Case& c : cases) runCase(c);
    runModel();
    std::printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "PASSED", g_failures);
    return g_failures ? 1 : 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "attnscope-check-cuda-stats: %s\n", e.what());
    return 1;
}
