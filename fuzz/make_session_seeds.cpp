// Writes the seed sessions of fuzz/corpus/session (run once; the outputs are committed):
// small files that every panel codec accepts.
#include <cstdio>

#include "attnscope/session.h"
#include "attnscope/session_codecs.h"

int main(int argc, char** argv) {
    using namespace attnscope;
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_session_seeds OUTDIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    Session s;
    s.appVersion = "0.1.0";
    s.created = "2026-11-22T10:00:00Z";
    s.model = {"attnscope-tiny", "", "llama", std::string(64, '0'), "cpu", "fp32", -1};
    s.prompt = "Call me Ishmael.";
    s.tokenIds = {0, 7, 9};
    s.tokenPieces = {"<|bos|>", "Call", " me"};
    s.view.openPanels = {"attention", "heads"};
    AttentionSection att;
    att.maps.push_back({0, -1, 0, 3, 0, 3, Matrix2D{3, 3, {1, 0, 0, .5f, .5f, 0, .2f, .3f, .5f}}});
    s.panels["attention"] = encodeAttention(att);
    s.panels["heads"] = encodeHeadScores({1, 2, 3, 3, "entropy", {1, 2}, {.5f, .5f}, {0, 1}, {.1f, .2f}});
    saveSession(dir + "/attention_heads.attnscope", s);

    Session w;
    WeibullSection wb;
    WeibullMatrixFit f;
    f.name = "model.layers.0.mlp.down_proj.weight";
    f.layer = 0;
    f.component = "down";
    f.shape = {4, 8};
    f.fit.ok = true;
    f.fit.k = 1.2, f.fit.lambda = 0.02, f.fit.r2 = 0.99, f.fit.nValues = 32, f.fit.nFit = 30;
    wb.fits.push_back(f);
    wb.selected = f.name;
    wb.hasPlot = true;
    wb.plot.lnAbs = {-3, -2};
    wb.plot.y = {-1, 0};
    wb.plot.log10Counts.assign(16, 0.5);
    w.panels["weibull"] = encodeWeibull(wb);
    w.panels["sinks"] = encodeSinks(SinksSection{});
    saveSession(dir + "/weibull_sinks.attnscope", w);

    Session k;
    KvSection kv;
    kv.sweep.push_back({"h2o", 16, 0.1, 0.9, 2.0, 1.9, 0.8, 0.1});
    kv.sweep.push_back({"streaming_llm", 32, 0.05, 1.0, 1.95, 1.9, 0.9, 0.05});
    kv.sinks = {0};
    k.panels["kv"] = encodeKv(kv);
    QuantSection q;
    q.matrices.resize(1);
    q.quantOnly.resize(1);
    q.curves.resize(1);
    k.panels["quant"] = encodeQuant(q);
    saveSession(dir + "/kv_quant.attnscope", k);
    return 0;
}
