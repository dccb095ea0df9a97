// Verbs about attention: one head's full matrix as CSV, all-layer statistics, a trace dump.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "attnscope/error.h"
#include "attnscope/trace_export.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

TracePolicy qkOnly() {
    TracePolicy p;
    p.keepResidual = p.keepPreRope = p.keepValues = p.keepMlp = false;
    p.keepLogits = false;
    return p;
}

// The prompt traced with `policy` (q/k only unless told otherwise) by an Inspector on --model.
std::unique_ptr<Inspector> traceForAttention(const CliArgs& a, TracePolicy policy = qkOnly()) {
    auto inspector = openInspector(a);
    inspector->setPrompt(promptIds(a, *inspector), {}, policy);
    return inspector;
}

struct FileCloser {
    void operator()(std::FILE* f) const { if (f) std::fclose(f); }
};

}  // namespace

int verbAttention(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert({"--layer", "--head", "--out"});
    const CliArgs a(argv, valued, kModelFlags);
    if (!a.has("--out")) fail(ErrorKind::BadInput, "attention needs --out FILE.csv");
    const auto inspector = traceForAttention(a);
    const Trace* t = &inspector->trace();
    const int layer = a.integer("--layer", 0), head = a.integer("--head", 0);
    if (head < 0) fail(ErrorKind::BadInput, "--head must be a query head index >= 0");
    const int64_t T = t->length();
    const std::string out = a.str("--out");
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(out.c_str(), "w"));
    if (!f) fail(ErrorKind::BadInput, out + ": cannot write file");
    // Row blocks keep memory at O(block * T) for long prompts.
    const int64_t block = std::max<int64_t>(1, (int64_t(16) << 20) / T);
    for (int64_t q0 = 0; q0 < T; q0 += block) {
        const int64_t q1 = std::min(T, q0 + block);
        const Matrix2D tile = t->attentionTile(layer, head, q0, q1, 0, T);
        for (int64_t r = 0; r < tile.rows; ++r) {
            for (int64_t c = 0; c < T; ++c) std::fprintf(f.get(), c ? ",%.9g" : "%.9g", double(tile.at(r, c)));
            std::fputc('\n', f.get());
        }
    }
    if (std::fflush(f.get()) != 0) fail(ErrorKind::BadInput, out + ": write failed");
    if (!a.has("--json")) std::fprintf(stderr, "wrote %lld x %lld matrix of layer %d head %d to %s\n",
                                       (long long)T, (long long)T, layer, head, out.c_str());
    return 0;
}

int verbStats(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert({"--min-query-pos", "--block", "--window-last"});
    auto flags = kModelFlags;
    flags.insert("--during-forward");
    const CliArgs a(argv, valued, flags);
    StatsOptions so;
    so.minQueryPos = a.integer64("--min-query-pos", 0);
    so.blockQ = so.blockK = a.integer64("--block", 256);
    so.windowLast = a.integer64("--window-last", 0);
    TracePolicy policy = qkOnly();
    if (a.has("--during-forward")) {
        // Long contexts: each layer's statistics are taken while the forward runs and no q/k
        // is kept (on CUDA the fused kernels; the memory is O(H*T) per layer).
        policy.keepQk = false;
        policy.statsDuringForward = true;
        policy.stats = so;
    }
    const auto inspector = traceForAttention(a, policy);
    const Trace* t = &inspector->trace();
    nlohmann::json j;
    j["tokens"] = t->ids();
    j["layers"] = nlohmann::json::array();
    for (int l = 0; l < t->nLayers(); ++l) {
        nlohmann::json heads = nlohmann::json::array();
        for (const HeadStats& s : t->layerStats(l, so)) {
            nlohmann::json h = {{"col_sum", s.colSum}, {"col_mean_causal", s.colMeanCausal}, {"entropy", s.entropy}};
            if (!s.windowSum.empty()) h["window_sum"] = s.windowSum;
            heads.push_back(std::move(h));
        }
        j["layers"].push_back({{"heads", std::move(heads)}});
    }
    std::cout << j.dump(a.has("--json") ? -1 : 1) << "\n";
    return 0;
}

int verbDump(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert("--out");
    auto flags = kModelFlags;
    flags.insert("--no-attentions");
    const CliArgs a(argv, valued, flags);
    if (!a.has("--out")) fail(ErrorKind::BadInput, "dump needs --out FILE.safetensors");
    const auto inspector = traceForAttention(a, TracePolicy{});
    const Trace* t = &inspector->trace();
    TraceExportOptions eo;
    eo.attentions = !a.has("--no-attentions");
    exportTrace(*t, a.str("--out"), eo);
    return 0;
}

}  // namespace attnscope::app
