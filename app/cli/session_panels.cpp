#include "session_panels.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "attnscope/analyses/kv.h"
#include "attnscope/analyses/quant.h"
#include "attnscope/error.h"
#include "cli_common.h"
#include "kv_common.h"

namespace attnscope::app {
namespace {

constexpr int kCalibWindow = 512;  // tokens per calibration pass, as the GUI's quantization dock

std::vector<std::string> csvCells(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) out.push_back(cell);
    return out;
}

double csvNumber(const std::string& cell, const std::string& where) {
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(cell, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (cell.empty() || used != cell.size()) fail(ErrorKind::BadInput, where + ": '" + cell + "' is not a number");
    return v;
}

}  // namespace

const std::set<std::string>& sessionKvOptions() {
    static const std::set<std::string> options = [] {
        std::set<std::string> v = {"--policy", "--budget", "--mode", "--param", "--compare", "--policies", "--budgets",
                                   "--sweep-csv", "--continuation", "--continuation-file"};
        for (const std::string& o : kvPolicyOptions()) v.insert("--" + o);
        return v;
    }();
    return options;
}

const std::set<std::string>& sessionQuantOptions() {
    static const std::set<std::string> options = {"--quant-scheme", "--quant-bits", "--quant-group", "--quant-rank",
                                                  "--quant-methods", "--quant-error"};
    return options;
}

std::vector<KvSweepRow> readKvSweepCsv(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(ErrorKind::NotFound, path + ": cannot open");
    std::string line;
    if (!std::getline(f, line)) fail(ErrorKind::BadInput, path + ": empty file");
    const std::vector<std::string> header = csvCells(line);
    std::map<std::string, size_t> col;
    for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
    for (const char* c : {"policy", "budget", "kl", "top1", "ppl", "ppl_full", "retained_mass", "output_rel_err"})
        if (!col.count(c)) fail(ErrorKind::BadInput, path + ": no column '" + c + "' (expected attnscope-cli kv-sweep --csv output)");
    std::vector<KvSweepRow> rows;
    for (int n = 2; std::getline(f, line); ++n) {
        if (line.empty()) continue;
        const std::vector<std::string> c = csvCells(line);
        const std::string where = path + ":" + std::to_string(n);
        if (c.size() != header.size()) fail(ErrorKind::BadInput, where + ": " + std::to_string(c.size()) + " cells, the header has " + std::to_string(header.size()));
        KvSweepRow r;
        r.policy = c[col["policy"]];
        const double budget = csvNumber(c[col["budget"]], where);
        if (budget < 1 || budget != double(int64_t(budget))) fail(ErrorKind::BadInput, where + ": the budget must be an integer >= 1");
        r.budget = int64_t(budget);
        r.kl = csvNumber(c[col["kl"]], where);
        r.top1 = csvNumber(c[col["top1"]], where);
        r.ppl = csvNumber(c[col["ppl"]], where);
        r.pplFull = csvNumber(c[col["ppl_full"]], where);
        r.retainedMass = csvNumber(c[col["retained_mass"]], where);
        r.outputRelErr = csvNumber(c[col["output_rel_err"]], where);
        rows.push_back(std::move(r));
    }
    return rows;
}

KvSection computeKvSection(Model& model, const std::vector<int32_t>& prompt, const CliArgs& a,
                           const std::vector<int64_t>& sinks) {
    KvSection k;
    k.policies = kvPolicies();
    const int64_t budget = a.integer64("--budget", 64);
    if (budget < 1) fail(ErrorKind::BadInput, "--budget must be >= 1");
    k.params = kvParamsFrom(a, a.str("--policy", "h2o"), budget, true);
    std::vector<KvParams> cover = {k.params};
    k.hasCompare = a.has("--compare");
    if (k.hasCompare) {
        k.compareParams = kvParamsFrom(a, a.str("--compare"), budget, false);
        k.compareParams.mode = KvMode::Prefill;
        cover.push_back(k.compareParams);
    }
    std::vector<KvParams> sweep;
    const bool sweepFromCsv = a.has("--sweep-csv");
    if (sweepFromCsv) {
        k.sweep = readKvSweepCsv(a.str("--sweep-csv"));
    } else {
        for (const std::string& p : kvPolicyList(a.str("--policies", "all")))
            for (int64_t b : kvBudgetList(a.str("--budgets", "16,32,64,128"))) sweep.push_back(kvParamsFrom(a, p, b, false));
        for (KvParams& p : sweep) p.mode = KvMode::Prefill;  // the sweep is of prefill decisions, as the panel's
        cover.insert(cover.end(), sweep.begin(), sweep.end());
    }
    const KvRun run = kvPrepare(model, prompt, a, cover);
    const KvOutcome a0 = kvEvaluate(model, run, k.params);
    k.selection = a0.selection;
    k.metrics = a0.local;
    k.endToEnd = a0.e2e;
    k.hasEndToEnd = true;
    if (k.hasCompare) k.compare = selectKv(run.inputs, k.compareParams);
    for (const KvSweepEntry& e : kvSweep(model, run, sweep))
        k.sweep.push_back({e.params.policy, e.params.budget, e.e2e.kl, e.e2e.top1, e.e2e.ppl, e.e2e.pplFull,
                           e.retainedMass, e.outputRelErr});
    k.tokens.ids = run.ids;
    for (int32_t id : run.ids) k.tokens.pieces.push_back(pieceOf(model, id));
    for (int64_t s : sinks)
        if (s < run.promptLength) k.sinks.push_back(s);
    return k;
}

QuantSection computeQuantSection(Model& model, const std::vector<int32_t>& prompt, const CliArgs& a) {
    QuantSection q;
    q.quant.scheme = a.str("--quant-scheme", "rtn-sym");
    q.quant.bits = a.integer("--quant-bits", 4);
    q.quant.group = a.integer("--quant-group", 0);
    std::stringstream methods(a.str("--quant-methods", "none,qera-exact"));
    std::getline(methods, q.methodA, ',');
    std::getline(methods, q.methodB, ',');
    parseReconMethod(q.methodA);  // clear errors before any work
    parseReconMethod(q.methodB);
    q.error = a.str("--quant-error", "output");
    if (q.error != "output" && q.error != "weight") fail(ErrorKind::BadInput, "--quant-error must be output or weight");
    const int rank = a.integer("--quant-rank", 32);
    if (rank < 0) fail(ErrorKind::BadInput, "--quant-rank must be >= 0");
    const int window = std::min(kCalibWindow, std::max(2, model.info().contextLength));
    const Calibration calib = calibrate(model, splitWindows(prompt, window, -1), CalibParams{});
    const std::vector<ReconLab> labs = reconLabs(model, calib, q.quant);
    q.calibTokens = calib.tokens;
    q.matrices = quantMatrices(model);
    int maxRank = 0;
    for (const ReconLab& lab : labs) {
        q.quantOnly.push_back(lab.quantOnly());
        std::vector<ReconCurve> curves;
        for (ReconMethod m : kReconMethods) {
            curves.push_back(lab.curve(m));
            maxRank = std::max(maxRank, int(curves.back().outputRelErr.size()) - 1);
        }
        q.curves.push_back(std::move(curves));
    }
    q.rank = std::min(rank, maxRank);  // as the panel's slider
    return q;
}

}  // namespace attnscope::app
