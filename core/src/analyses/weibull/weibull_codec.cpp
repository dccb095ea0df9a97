// Session section of the Weibull panel: the fit of every matrix as a numeric table plus
// names and labels in the parameters, and the selected matrix's probability plot.
#include <array>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "session/codec_json.h"

namespace attnscope {

using nlohmann::json;
using Type = SessionTensor::Type;

namespace {

constexpr std::array<const char*, 18> kColumns = {
    "ok", "k", "lambda", "r2", "ks", "n_values", "n_fit", "n_dropped", "sd_k", "drift_pct", "low_r2",
    "q90q10", "q99q50", "p999p50", "gini", "median_abs", "window_ln_lo", "window_ln_hi"};
constexpr std::array<const char*, 2> kProtocols = {"exact", "hist"};
constexpr std::array<const char*, 3> kTrims = {"mid80", "mid90", "full"};

constexpr size_t kMaxMatrices = 1 << 20;

// A stored count (a double in the table) as uint64; anything else is a corrupt file
// (converting NaN or a value past 2^64 would be undefined behaviour).
uint64_t countOf(const codec::JsonReader& p, double v, const char* column) {
    if (!(v >= 0 && v < 18446744073709551616.0) || v != static_cast<double>(static_cast<uint64_t>(v)))
        p.bad(std::string("column '") + column + "' holds " + std::to_string(v) + ", not a count");
    return static_cast<uint64_t>(v);
}

}  // namespace

SessionSection encodeWeibull(const WeibullSection& w) {
    SessionSection s;
    const WeibullParams& p = w.params;
    json matrices = json::array();
    std::vector<int32_t> layers;
    std::vector<int64_t> shapes;
    std::vector<double> values;
    for (const WeibullMatrixFit& f : w.fits) {
        const WeibullResult& r = f.fit;
        matrices.push_back({{"name", f.name}, {"component", f.component}, {"cls", r.cls}, {"drift", r.drift},
                            {"reason", r.reason}});
        layers.push_back(f.layer);
        shapes.push_back(f.shape.size() > 0 ? f.shape[0] : 0);
        shapes.push_back(f.shape.size() > 1 ? f.shape[1] : (f.shape.empty() ? 0 : -1));
        const WeibullDistFree& d = r.distFree;
        values.insert(values.end(), {double(r.ok), r.k, r.lambda, r.r2, r.ks, double(r.nValues), double(r.nFit),
                                     double(r.nDropped), r.sdK, r.driftPct, double(r.lowR2), d.q90q10, d.q99q50,
                                     d.p999p50, d.gini, d.medianAbs, r.windowLnLo, r.windowLnHi});
    }
    s.params = {{"protocol", kProtocols[size_t(p.protocol)]}, {"trim", kTrims[size_t(p.trim)]},
                {"subsample", p.subsample}, {"seed", p.seed}, {"is_init", p.isInit},
                {"selected", w.selected}, {"matrices", matrices}, {"fit_columns", kColumns}};
    const int64_t n = int64_t(w.fits.size());
    s.tensors["fits.layer"] = SessionTensor::i32({n}, layers);
    s.tensors["fits.shape"] = SessionTensor::i64({n, 2}, shapes);
    s.tensors["fits.values"] = SessionTensor::f64({n, int64_t(kColumns.size())}, values);
    if (w.hasPlot) {
        s.tensors["plot.ln_abs"] = SessionTensor::f64({int64_t(w.plot.lnAbs.size())}, w.plot.lnAbs);
        s.tensors["plot.y"] = SessionTensor::f64({int64_t(w.plot.y.size())}, w.plot.y);
        s.tensors["plot.log10_counts"] = SessionTensor::f64({int64_t(w.plot.log10Counts.size())}, w.plot.log10Counts);
    }
    return s;
}

WeibullSection decodeWeibull(const SessionSection& s) {
    const std::string where = "weibull";
    const codec::JsonReader p(s.params, where);
    WeibullSection w;
    w.params.protocol = WeibullProtocol(p.choice("protocol", kProtocols));
    w.params.trim = WeibullTrim(p.choice("trim", kTrims));
    w.params.subsample = p.count("subsample", w.params.subsample);
    w.params.seed = p.count("seed", w.params.seed);
    w.params.isInit = p.boolean("is_init", w.params.isInit);
    w.selected = p.str("selected", "");
    p.expect("fit_columns", kColumns);
    const std::vector<codec::JsonReader> matrices = p.objects("matrices", kMaxMatrices);
    const int64_t n = int64_t(matrices.size()), nc = int64_t(kColumns.size());
    auto layers = s.require(where, "fits.layer", Type::I32, {n}).toI32("weibull/fits.layer");
    auto shapes = s.require(where, "fits.shape", Type::I64, {n, 2}).toI64("weibull/fits.shape");
    auto values = s.require(where, "fits.values", Type::F64, {n, nc}).toF64("weibull/fits.values");
    for (int64_t i = 0; i < n; ++i) {
        const codec::JsonReader& m = matrices[size_t(i)];
        WeibullMatrixFit f;
        f.name = m.str("name");
        f.component = m.str("component");
        f.layer = layers[size_t(i)];
        f.shape = {shapes[size_t(2 * i)]};
        if (shapes[size_t(2 * i + 1)] >= 0) f.shape.push_back(shapes[size_t(2 * i + 1)]);
        const double* v = values.data() + i * nc;
        WeibullResult& r = f.fit;
        r.protocol = w.params.protocol;
        r.trim = w.params.trim;
        r.cls = m.str("cls");
        r.drift = m.str("drift");
        r.reason = m.str("reason");
        r.ok = v[0] != 0;
        r.k = v[1], r.lambda = v[2], r.r2 = v[3], r.ks = v[4];
        r.nValues = countOf(p, v[5], "n_values"), r.nFit = countOf(p, v[6], "n_fit");
        r.nDropped = countOf(p, v[7], "n_dropped");
        r.sdK = v[8], r.driftPct = v[9], r.lowR2 = v[10] != 0;
        r.distFree = {v[11], v[12], v[13], v[14], v[15]};
        r.windowLnLo = v[16], r.windowLnHi = v[17];
        w.fits.push_back(std::move(f));
    }
    if (s.has("plot.ln_abs")) {
        w.plot.lnAbs = s.require(where, "plot.ln_abs", Type::F64, {-1}).toF64("weibull/plot.ln_abs");
        w.plot.y = s.require(where, "plot.y", Type::F64, {int64_t(w.plot.lnAbs.size())}).toF64("weibull/plot.y");
        w.plot.log10Counts = s.require(where, "plot.log10_counts", Type::F64, {-1}).toF64("weibull/plot.log10_counts");
        w.hasPlot = true;
    }
    return w;
}

}  // namespace attnscope
