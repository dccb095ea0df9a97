// Session codec of the A^3 lab and its torch-free helpers (built into attnscope_io, for
// widgets and export).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "attnscope/analyses/a3.h"
#include "attnscope/enum_names.h"
#include "attnscope/error.h"
#include "session/codec_json.h"

namespace attnscope {

namespace {

using Type = SessionTensor::Type;
constexpr int64_t kColumns = 9;
constexpr A3Component kComponents[] = {A3Component::QK, A3Component::OV, A3Component::MLP};
constexpr const char* kRopes[] = {"pre_rope", "freq_pairs", "no_rotary_cut"};  // A3Rope order
constexpr EnumName<A3Component> kComponentNames[] = {
    {A3Component::QK, "qk"}, {A3Component::OV, "ov"}, {A3Component::MLP, "mlp"}};
constexpr EnumName<A3Rope> kRopeNames[] = {
    {A3Rope::PreRope, kRopes[0]}, {A3Rope::FrequencyPairs, kRopes[1]}, {A3Rope::NoRotaryCut, kRopes[2]}};

std::vector<A3Point>& pointsOf(A3Layer& l, A3Component c) {
    return c == A3Component::QK ? l.qk : c == A3Component::OV ? l.ov : l.mlp;
}

}  // namespace

const char* a3ComponentName(A3Component c) { return enumName(kComponentNames, c); }
A3Component parseA3Component(const std::string& name) { return parseEnum(kComponentNames, name, "A^3 component"); }
const char* a3RopeName(A3Rope r) { return enumName(kRopeNames, r); }
A3Rope parseA3Rope(const std::string& name) { return parseEnum(kRopeNames, name, "A^3 RoPE handling"); }

int64_t a3KvBytesPerToken(int nLayers, int nKvHeads, int rQk, int rVo, int bytesPerElement) {
    return int64_t(nLayers) * nKvHeads * (rQk + rVo) * bytesPerElement;
}

int a3Rank(const A3Result& result, A3Component component, double fraction) {
    if (result.layers.empty()) return 0;
    const std::vector<A3Point>& pts = result.layers.front().of(component);
    for (size_t i = 0; i < result.fractions.size() && i < pts.size(); ++i)
        if (result.fractions[i] == fraction) return pts[i].r;
    fail(ErrorKind::BadInput, "A^3: no point at rank fraction " + std::to_string(fraction));
}

namespace {

size_t fractionIndexOf(const A3Result& r, double fraction) {
    for (size_t i = 0; i < r.fractions.size(); ++i)
        if (std::abs(r.fractions[i] - fraction) < 1e-9) return i;
    fail(ErrorKind::BadInput, "A^3: the sweep has no rank fraction " + std::to_string(fraction));
}

int fullOf(const A3Result& r, A3Component c) { return c == A3Component::MLP ? r.dFF : r.headDim; }

}  // namespace

A3Profile a3UniformProfile(const A3Result& r, double fraction) {
    const size_t f = fractionIndexOf(r, fraction);
    A3Profile p;
    p.name = "uniform " + std::to_string(int(std::lround(fraction * 100))) + "%";
    for (const A3Layer& l : r.layers) p.ranks.push_back({l.qk[f].r, l.ov[f].r, l.mlp[f].r});
    return p;
}

A3Profile a3ThresholdProfile(const A3Result& r, double epsilon) {
    if (!(epsilon >= 0)) fail(ErrorKind::BadInput, "A^3: the error threshold must be >= 0");
    A3Profile p;
    std::ostringstream name;
    name << "smallest rank with held-out error <= " << epsilon;
    p.name = name.str();
    for (const A3Layer& l : r.layers) {
        std::array<int, kA3Components> ranks{};
        for (int c = 0; c < kA3Components; ++c) {
            const A3Component comp = kComponents[c];
            int best = fullOf(r, comp);
            for (const A3Point& pt : l.of(comp))
                if (pt.heldOut <= epsilon) best = std::min(best, pt.r);
            ranks[size_t(c)] = best;
        }
        p.ranks.push_back(ranks);
    }
    return p;
}

A3Profile a3LayerProfile(const A3Result& r, const std::vector<double>& fractionPerLayer) {
    if (fractionPerLayer.size() != r.layers.size())
        fail(ErrorKind::BadInput, "A^3: one rank fraction per layer (" + std::to_string(r.layers.size()) + ")");
    A3Profile p;
    p.name = "per layer";
    for (size_t l = 0; l < r.layers.size(); ++l) {
        const size_t f = fractionIndexOf(r, fractionPerLayer[l]);
        const A3Layer& y = r.layers[l];
        p.ranks.push_back({y.qk[f].r, y.ov[f].r, y.mlp[f].r});
    }
    return p;
}

int64_t a3PointFlopsSaved(const A3Result& r, A3Component c, const A3Point& p, int64_t T) {
    int64_t flops = 2 * p.paramsSaved;  // the projections' removed rows and columns
    // q·k over T keys (QK) and Σ p·v over T values (OV), per query head and cut dimension
    if (c != A3Component::MLP) flops += 2 * int64_t(r.nHeads) * (r.headDim - p.r) * T;
    return flops;
}

int64_t a3FlopsSavedPerToken(const A3Result& r, size_t f, int64_t T) {
    int64_t flops = 0;
    for (const A3Layer& l : r.layers) {
        if (f >= l.qk.size()) fail(ErrorKind::BadInput, "A^3: no such rank index");
        for (A3Component c : kComponents) flops += a3PointFlopsSaved(r, c, l.of(c)[f], T);
    }
    return flops;
}

SessionSection encodeA3(const A3Result& r) {
    SessionSection s;
    s.params = {{"layers", r.nLayers},        {"heads", r.nHeads},
                {"kv_heads", r.nKvHeads},     {"head_dim", r.headDim},
                {"d_model", r.dModel},        {"d_ff", r.dFF},
                {"rope", r.rope},             {"rotary_dim", r.rotaryDim},
                {"qk_mode", r.qkMode},        {"a3_rope", kRopes[int(r.params.rope)]},
                {"refit", r.params.refit},    {"damping", r.params.damping},
                {"fractions", r.fractions},   {"calib_tokens", r.calibTokens},
                {"held_out_rows", r.heldOutRows}};
    const int64_t L = r.nLayers, F = int64_t(r.fractions.size());
    std::vector<double> points;
    std::vector<int32_t> ranks;
    std::vector<int64_t> saved;
    for (const A3Layer& l : r.layers)
        for (A3Component c : kComponents)
            for (const A3Point& p : l.of(c)) {
                points.insert(points.end(), {p.fraction, p.objective, p.baselineObjective, p.heldOut, p.baselineHeldOut,
                                             p.rowKl, p.baselineRowKl, p.weightErr, p.baselineWeightErr});
                ranks.push_back(p.r);
                saved.push_back(p.paramsSaved);
            }
    if (int64_t(ranks.size()) != L * 3 * F) fail(ErrorKind::Internal, "a3: every layer and component needs a point per fraction");
    s.tensors["points"] = SessionTensor::f64({L, 3, F, kColumns}, points);
    s.tensors["r"] = SessionTensor::i32({L, 3, F}, ranks);
    s.tensors["params_saved"] = SessionTensor::i64({L, 3, F}, saved);
    return s;
}

A3Result decodeA3(const SessionSection& s) {
    const codec::JsonReader p(s.params, "a3");
    A3Result r;
    r.nLayers = int(p.integer("layers", 1, 4096));
    r.nHeads = int(p.integer("heads", 1, 4096));
    r.nKvHeads = int(p.integer("kv_heads", 1, r.nHeads));
    if (r.nHeads % r.nKvHeads) p.bad("'heads' must be a multiple of 'kv_heads'");
    r.headDim = int(p.integer("head_dim", 1, 65536));
    r.dModel = int(p.integer("d_model", 1, 1 << 20));
    r.dFF = int(p.integer("d_ff", 1, 1 << 22));
    r.rope = p.boolean("rope");
    r.rotaryDim = int(p.integer("rotary_dim", 0, r.headDim));
    r.qkMode = p.str("qk_mode");
    r.params.rope = A3Rope(p.choice("a3_rope", kRopes));
    r.params.refit = p.boolean("refit");
    r.params.damping = p.number("damping");
    r.fractions = p.numbers("fractions", 64);
    if (r.fractions.empty()) p.bad("'fractions' is empty");
    for (double f : r.fractions)
        if (!(f > 0 && f <= 1)) p.bad("'fractions' must lie in (0, 1]");
    r.calibTokens = p.integer("calib_tokens", 1, int64_t(1) << 40);
    r.heldOutRows = p.integer("held_out_rows", 1, int64_t(1) << 40);
    const int64_t L = r.nLayers, F = int64_t(r.fractions.size());
    const std::vector<double> points = s.require("a3", "points", Type::F64, {L, 3, F, kColumns}).toF64("a3/points");
    const std::vector<int32_t> ranks = s.require("a3", "r", Type::I32, {L, 3, F}).toI32("a3/r");
    const std::vector<int64_t> saved = s.require("a3", "params_saved", Type::I64, {L, 3, F}).toI64("a3/params_saved");
    size_t i = 0;
    for (int64_t l = 0; l < L; ++l) {
        A3Layer layer;
        for (A3Component c : kComponents) {
            const int full = c == A3Component::MLP ? r.dFF : r.headDim;
            for (int64_t f = 0; f < F; ++f, ++i) {
                const double* v = points.data() + i * size_t(kColumns);
                A3Point pt{ranks[i], v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], saved[i]};
                if (pt.r < 1 || pt.r > full) p.bad("tensor 'r' holds a rank outside [1, " + std::to_string(full) + "]");
                pointsOf(layer, c).push_back(pt);
            }
        }
        r.layers.push_back(std::move(layer));
    }
    return r;
}

}  // namespace attnscope
