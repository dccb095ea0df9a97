// weibull: two-parameter Weibull fits of |w| for every weight matrix of the model
// (issue 7; shared/reference/weibull-and-quantization.md §1).
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "attnscope/error.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { if (f) std::fclose(f); }
};

std::string shapeText(const std::vector<int64_t>& s) {
    std::string out;
    for (int64_t d : s) out += (out.empty() ? "" : "x") + std::to_string(d);
    return out;
}

// NaN (failed fits) as null: JSON has no NaN.
nlohmann::ordered_json number(double v) {
    return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

void writeCsv(const std::string& path, const std::vector<WeibullMatrixFit>& fits) {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "w"));
    if (!f) fail(ErrorKind::BadInput, path + ": cannot write file");
    std::fprintf(f.get(), "name,layer,component,shape,k,lambda,r2,ks,n,n_fit,sd_k,class,drift,protocol,trim\n");
    for (const WeibullMatrixFit& m : fits) {
        const WeibullResult& r = m.fit;
        std::fprintf(f.get(), "%s,%d,%s,%s,%.9g,%.9g,%.9g,%.9g,%llu,%llu,%.9g,%s,%s,%s,%s\n", m.name.c_str(),
                     m.layer, m.component.c_str(), shapeText(m.shape).c_str(), r.k, r.lambda, r.r2, r.ks,
                     (unsigned long long)r.nValues, (unsigned long long)r.nFit, r.sdK, r.cls.c_str(),
                     r.drift.c_str(), weibullProtocolName(r.protocol), weibullTrimName(r.trim));
    }
    if (std::fflush(f.get()) != 0) fail(ErrorKind::BadInput, path + ": write failed");
}

}  // namespace

int verbWeibull(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert({"--protocol", "--trim", "--subsample", "--seed", "--csv", "--threads"});
    auto flags = kModelFlags;
    flags.insert("--init");
    const CliArgs a(argv, valued, flags);
    WeibullParams p;
    p.protocol = parseWeibullProtocol(a.str("--protocol", "exact"));
    p.trim = parseWeibullTrim(a.str("--trim", "mid80"));
    const long long sub = a.integer64("--subsample", 0), seed = a.integer64("--seed", 0);
    if (sub < 0) fail(ErrorKind::BadInput, "--subsample must be >= 0");
    if (a.has("--seed") && !a.has("--subsample")) fail(ErrorKind::BadInput, "--seed needs --subsample N");
    p.subsample = uint64_t(sub);
    p.seed = uint64_t(seed);
    p.isInit = a.has("--init");
    p.threads = a.integer("--threads", 0);
    auto inspector = openInspector(a);
    const std::vector<WeibullMatrixFit> fits = inspector->weibullFits(p);

    if (a.has("--csv")) writeCsv(a.str("--csv"), fits);
    if (a.has("--json")) {
        nlohmann::ordered_json j;  // keys in the order
        j["protocol"] = weibullProtocolName(p.protocol);
        j["trim"] = weibullTrimName(p.trim);
        j["subsample"] = p.subsample;
        j["matrices"] = nlohmann::ordered_json::array();
        for (const WeibullMatrixFit& f : fits) {
            const WeibullResult& r = f.fit;
            nlohmann::ordered_json o = {{"name", f.name}, {"layer", f.layer}, {"component", f.component},
                                {"shape", f.shape}, {"k", number(r.k)}, {"lambda", number(r.lambda)},
                                {"r2", number(r.r2)}, {"ks", number(r.ks)}, {"n", r.nValues},
                                {"n_fit", r.nFit}, {"sd_k", number(r.sdK)}, {"class", r.cls},
                                {"drift", r.drift}, {"ok", r.ok}};
            if (!r.ok) o["reason"] = r.reason;
            if (r.lowR2)  // the reference's fallback: distribution-free metrics instead of k
                o["dist_free"] = {{"q90_q10", number(r.distFree.q90q10)}, {"q99_q50", number(r.distFree.q99q50)},
                                  {"p999_p50", number(r.distFree.p999p50)}, {"gini", number(r.distFree.gini)},
                                  {"median_abs_w", number(r.distFree.medianAbs)}};
            j["matrices"].push_back(std::move(o));
        }
        std::cout << j.dump(1) << "\n";
        return 0;
    }
    if (a.has("--csv")) {
        std::fprintf(stderr, "wrote %zu matrices to %s\n", fits.size(), a.str("--csv").c_str());
        return 0;
    }
    std::printf("protocol %s, trim %s\n%-44s %5s %-8s %8s %10s %8s %7s %9s  %s\n", weibullProtocolName(p.protocol),
                weibullTrimName(p.trim), "name", "layer", "comp", "k", "lambda", "r2", "ks", "n", "class");
    for (const WeibullMatrixFit& f : fits)
        std::printf("%-44s %5d %-8s %8.4f %10.4g %8.5f %7.4f %9llu  %s\n", f.name.c_str(), f.layer,
                    f.component.c_str(), f.fit.k, f.fit.lambda, f.fit.r2, f.fit.ks,
                    (unsigned long long)f.fit.nValues, f.fit.cls.c_str());
    return 0;
}

}  // namespace attnscope::app
