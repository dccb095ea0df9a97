#include "session_compute.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "attnscope/analyses/sinks.h"
#include "attnscope/analyses/weibull.h"
#include "attnscope/error.h"
#include "attnscope/model.h"
#include "attnscope/session_codecs.h"
#include "cli_common.h"
#include "session_panels.h"
#include "sink_options.h"

namespace attnscope::app {
namespace {

std::set<std::string> splitList(const std::string& s) {
    std::set<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.insert(item);
    return out;
}

// Every layer x (heads + mean) when it fits, else the selected layer's. Maps larger than
// maxMap per side are max-pooled by the trace (exactly as the GUI's overview).
AttentionSection attentionMaps(const Trace& trace, int layer, int head, int maxMap) {
    AttentionSection a;
    a.layer = layer;
    a.head = head;
    a.nLayers = trace.nLayers();
    a.nHeads = trace.nHeads();
    const int64_t T = trace.length();
    const int side = int(std::min<int64_t>(T, maxMap));
    const int64_t perMap = int64_t(side) * side * 4;
    const bool all = perMap * trace.nLayers() * (trace.nHeads() + 1) <= (256ll << 20);
    for (int l = 0; l < trace.nLayers(); ++l) {
        if (!all && l != layer) continue;
        for (int h = -1; h < trace.nHeads(); ++h) {
            Matrix2D m = side == T ? trace.attentionTile(l, h, 0, T, 0, T)
                                   : trace.overview(l, h, 0, T, 0, T, side, side, Pool::Max);
            a.maps.push_back({l, h, 0, T, 0, T, std::move(m)});
        }
    }
    return a;
}

// Per-head scores of the head grid: mean row entropy, causal mean attention to token 0,
// and the mean of A[i, i-1] and A[i, i] over every query row (exact tiles of 256 rows).
HeadScoresSection headScores(const Trace& trace) {
    HeadScoresSection h;
    h.nLayers = trace.nLayers();
    h.nHeads = trace.nHeads();
    const int64_t T = trace.length();
    h.tokens = T;
    h.sampledRows = T;
    for (int l = 0; l < h.nLayers; ++l) {
        const std::vector<HeadStats> stats = trace.layerStats(l, StatsOptions{});
        for (int hd = 0; hd < h.nHeads; ++hd) {
            const HeadStats& s = stats[size_t(hd)];
            double ent = 0;
            for (float e : s.entropy) ent += e;
            double diag = 0, prev = 0;
            for (int64_t q0 = 0; q0 < T; q0 += 256) {
                const int64_t q1 = std::min<int64_t>(T, q0 + 256), k0 = std::max<int64_t>(0, q0 - 1);
                const Matrix2D tile = trace.attentionTile(l, hd, q0, q1, k0, q1);
                for (int64_t i = q0; i < q1; ++i) {
                    diag += tile.at(i - q0, i - k0);
                    if (i > 0) prev += tile.at(i - q0, i - 1 - k0);
                }
            }
            h.entropy.push_back(float(ent / double(std::max<int64_t>(T, 1))));
            h.firstToken.push_back(s.colMeanCausal.empty() ? 0.f : s.colMeanCausal[0]);
            h.previousToken.push_back(float(prev / double(std::max<int64_t>(T - 1, 1))));
            h.diagonal.push_back(float(diag / double(std::max<int64_t>(T, 1))));
        }
    }
    return h;
}

WeibullSection weibull(const Model& m, const CliArgs& a) {
    WeibullSection w;
    w.params.protocol = parseWeibullProtocol(a.str("--protocol", "exact"));
    w.params.trim = parseWeibullTrim(a.str("--trim", "mid80"));
    w.fits = fitModelWeights(m, w.params);
    w.selected = a.str("--weibull-matrix");
    if (w.selected.empty())  // the panel's default: the first matrix inside the blocks
        for (const WeibullMatrixFit& f : w.fits)
            if (f.layer >= 0) {
                w.selected = f.name;
                break;
            }
    if (!w.selected.empty()) {
        const Matrix2D weights = m.weightMatrix(w.selected);
        w.plot = weibullPlot(weights.data.data(), weights.data.size(), w.params);
        w.hasPlot = true;
    }
    return w;
}

}  // namespace

const std::set<std::string> kSessionOptions = [] {
    std::set<std::string> v = {"--layer", "--head", "--token", "--panels", "--max-map",
                               "--protocol", "--trim", "--weibull-matrix", "--epsilon",
                               "--cos-threshold", "--min-query-pos", "--rule", "--source", "--bos"};
    v.insert(sessionKvOptions().begin(), sessionKvOptions().end());  // function statics: safe during static init
    v.insert(sessionQuantOptions().begin(), sessionQuantOptions().end());
    return v;
}();

Session computeSession(const CliArgs& a) {
    const std::set<std::string> known = {"attention", "heads", "sinks", "weibull", "kv", "quant"};
    const std::set<std::string> panels = a.has("--panels") ? splitList(a.str("--panels")) : known;
    for (const std::string& p : panels)
        if (!known.count(p))
            fail(ErrorKind::BadInput, "--panels: unknown panel '" + p + "' (attention, heads, sinks, weibull, kv, quant)");
    const SinkParams sinkParams = sinkParamsFromArgs(a);
    const int maxMap = a.integer("--max-map", 256);
    if (maxMap < 8 || maxMap > 4096) fail(ErrorKind::BadInput, "--max-map must be in [8, 4096]");

    auto model = openModel(a);
    const ModelInfo& info = model->info();
    Session s;
    s.appVersion = ATTNSCOPE_VERSION;
    s.created = sessionTimestampNow();
    s.model.path = info.path;
    s.model.tokenizer = a.str("--tokenizer");
    s.model.family = info.arch;
    s.model.sha256 = sessionModelFingerprint(s.model.path, s.model.tokenizer);
    s.model.device = deviceName(info.device);
    s.model.dtype = dtypeName(info.dtype);
    s.model.step = a.has("--step") ? a.integer("--step", -1) : -1;
    s.tokenIds = promptIds(a, *model);
    s.prompt = a.has("--prompt-file") ? readTextFile(a.str("--prompt-file")) : a.str("--prompt");
    for (int32_t id : s.tokenIds) s.tokenPieces.push_back(pieceOf(*model, id));

    s.view.layer = a.integer("--layer", 0);
    s.view.head = a.integer("--head", 0);
    s.view.token = a.integer64("--token", -1);
    if (s.view.layer < 0 || s.view.layer >= info.nLayers)
        fail(ErrorKind::BadInput, "--layer must be in [0, " + std::to_string(info.nLayers) + ")");
    if (s.view.head < -1 || s.view.head >= info.nHeads)
        fail(ErrorKind::BadInput, "--head must be -1 (mean) or in [0, " + std::to_string(info.nHeads) + ")");
    if (s.view.token < -1 || s.view.token >= int64_t(s.tokenIds.size()))
        fail(ErrorKind::BadInput, "--token is outside the prompt");

    const bool needTrace = panels.count("attention") || panels.count("heads") || panels.count("sinks");
    std::unique_ptr<Trace> trace;
    if (needTrace) {
        RunOptions ro;
        ro.trace.keepPreRope = ro.trace.keepValues = ro.trace.keepLogits = false;
        trace = model->run(s.tokenIds, ro);
    }
    for (const char* p : {"attention", "heads", "sinks", "weibull", "kv", "quant"})
        if (panels.count(p)) s.view.openPanels.push_back(p);
    if (panels.count("attention")) s.panels["attention"] = encodeAttention(attentionMaps(*trace, s.view.layer, s.view.head, maxMap));
    if (panels.count("heads")) s.panels["heads"] = encodeHeadScores(headScores(*trace));
    std::vector<int64_t> sinks;  // marked on the KV keep maps
    if (panels.count("sinks")) {
        SinksSection k;
        k.params = sinkParams;
        SinkInputOptions io;
        io.references = sinkParams.bosCandidates;
        k.inputs = computeSinkInputs(*trace, sinkParams.minQueryPos, io);
        k.hasInputs = true;
        k.result = classifySinks(k.inputs, sinkParams);
        for (const SinkToken& t : k.result.sinks)  // as the KV dock shows them
            if (t.cls == SinkClass::Primary || t.cls == SinkClass::Secondary) sinks.push_back(t.token);
        s.panels["sinks"] = encodeSinks(k);
    }
    if (panels.count("weibull")) s.panels["weibull"] = encodeWeibull(weibull(*model, a));
    trace.reset();  // the KV and quantization runs trace on their own
    if (panels.count("kv")) s.panels["kv"] = encodeKv(computeKvSection(*model, s.tokenIds, a, sinks));
    if (panels.count("quant")) s.panels["quant"] = encodeQuant(computeQuantSection(*model, s.tokenIds, a));
    s.view.currentPanel = s.view.openPanels.empty() ? std::string() : s.view.openPanels.front();
    return s;
}

}  // namespace attnscope::app
