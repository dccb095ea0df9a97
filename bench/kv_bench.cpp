// attnscope-bench-kv: cost of the KV-cache eviction lab (issue 6) at the panel's working point.
//
//   attnscope-bench-kv [--model DIR] [--length 1024] [--continuation 32] [--repeats 15]
//
// Default: the built-in model (6 layers, GQA 8/2) on T = --length tokens of real text (the
// held-out slice repeated), the last --continuation of them the evaluated continuation.
// Reports the forward + trace, computeKvInputs (once per trace), and per policy the median
// and worst time of one parameter edit = selectKv + kvLocalMetrics for all layers (the
// budget cycles through 16..512 so every edit changes the masks); then one background
// end-to-end re-run and one model-driven decode simulation.
#include "bench_util.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "attnscope/analyses/kv.h"
#include "attnscope/error.h"
#include "attnscope/model.h"

using namespace attnscope;
using namespace attnscope::bench;

namespace {

// CPU time of the process (all threads), which a loaded machine does not inflate.
double cpuMs() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string dir = arg(argc, argv, "--model", ATTNSCOPE_SOURCE_DIR "/resources/models/attnscope-tiny");
        const int64_t T = std::stoll(arg(argc, argv, "--length", "1024"));
        const int64_t C = std::stoll(arg(argc, argv, "--continuation", "32"));
        const int repeats = std::stoi(arg(argc, argv, "--repeats", "15"));
        OpenOptions o;
        o.path = dir;
        auto model = Model::open(o);
        const std::string text = readFile(ATTNSCOPE_SOURCE_DIR "/tests/data/heldout_slice.txt");
        std::vector<int32_t> ids = model->tokenize(text, true);
        while (int64_t(ids.size()) < T) {
            const std::vector<int32_t> more = model->tokenize(text, false);
            ids.insert(ids.end(), more.begin(), more.end());
        }
        ids.resize(size_t(T));
        const int64_t Tp = T - C;
        const ModelInfo& mi = model->info();
        std::printf("# attnscope-bench-kv: %s (%d layers, %d/%d heads, d %d), T = %lld (prompt %lld + continuation %lld), CPU\n\n",
                    dir.c_str(), mi.nLayers, mi.nHeads, mi.nKvHeads, mi.headDim, (long long)T, (long long)Tp, (long long)C);

        std::unique_ptr<Trace> trace;
        const double fwd = seconds([&] { trace = model->run(ids); });
        std::vector<KvParams> all;
        const std::vector<int64_t> budgets = {16, 32, 64, 128, 256, 512};
        for (const KvPolicyInfo& p : kvPolicies())
            for (int64_t b : budgets) all.push_back({p.name, b, KvMode::Prefill, {}});
        KvInputs in;
        const double prep = seconds([&] { in = computeKvInputs(*model, *trace, kvInputOptionsFor(all, Tp)); });
        std::printf("forward + trace %.1f ms; computeKvInputs (all policies, window rows %lld) %.1f ms\n\n", fwd * 1e3,
                    (long long)in.windowRows, prep * 1e3);

        std::printf("| policy | granularity | edit wall min (ms) | edit wall median (ms) | edit wall max (ms) | edit CPU median (ms) | select median (ms) | end-to-end (ms) |\n");
        std::printf("|---|---|---|---|---|---|---|---|\n");
        double worst = 0;
        for (const KvPolicyInfo& p : kvPolicies()) {
            std::vector<double> edit, sel, cpu;
            KvSelection s;
            for (int r = 0; r < repeats; ++r) {
                const KvParams kp{p.name, budgets[size_t(r) % budgets.size()], KvMode::Prefill, {}};
                const double c0 = cpuMs();
                sel.push_back(seconds([&] { s = selectKv(in, kp); }) * 1e3);
                edit.push_back(sel.back() + seconds([&] { kvLocalMetrics(in, s); }) * 1e3);
                cpu.push_back(cpuMs() - c0);
            }
            const double e2e = seconds([&] { kvEndToEnd(*model, in, s); }) * 1e3;
            const double mx = *std::max_element(edit.begin(), edit.end());
            worst = std::max(worst, mx);
            std::printf("| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f |\n", p.name.c_str(), kvGranularityName(s.granularity),
                        *std::min_element(edit.begin(), edit.end()), median(edit), mx, median(cpu), median(sel), e2e);
        }
        std::printf("\nworst parameter edit over all policies: %.2f ms (panel budget 50 ms); machine load %s\n", worst,
                    readFile("/proc/loadavg").c_str());
        const KvParams h2o{"h2o", 64, KvMode::Decode, {}};
        KvEndToEnd e;
        const double fixed = seconds([&] { simulateKvDecodeFixed(in, h2o); }) * 1e3;
        const double decode = seconds([&] { simulateKvDecode(*model, in, h2o, &e); }) * 1e3;
        std::printf("decode simulation, h2o B=64, %lld steps: fixed q/k %.1f ms, through the model %.1f ms (KL %.4f)\n",
                    (long long)C, fixed, decode, e.kl);
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "attnscope-bench-kv: %s\n", e.what());
        return 1;
    }
}
