// Session codec of the attention-variants lab (torch-free: attnscope_io). The section's JSON is
// also what `attnscope-cli variants --json` prints.
#include <cstdint>

#include "attnscope/analyses/variants.h"
#include "attnscope/error.h"
#include "session/codec_json.h"

namespace attnscope {
namespace {

constexpr const char* kPanel = "variants";
constexpr size_t kMaxVariants = 256, kMaxHeads = 4096, kMaxContinuation = 1 << 16;

// name, member: the metrics in the order the JSON lists them (zero_rows apart: an integer).
const std::pair<const char*, double VariantHeadMetrics::*> kMetrics[] = {
    {"output_rel_err", &VariantHeadMetrics::outputRelErr},
    {"row_rel_err_mean", &VariantHeadMetrics::rowRelErrMean},
    {"row_rel_err_p95", &VariantHeadMetrics::rowRelErrP95},
    {"row_rel_err_max", &VariantHeadMetrics::rowRelErrMax},
    {"cosine", &VariantHeadMetrics::cosine},
    {"row_kl_mean", &VariantHeadMetrics::rowKlMean},
    {"row_tv_mean", &VariantHeadMetrics::rowTvMean},
    {"entropy", &VariantHeadMetrics::entropy},
    {"softmax_entropy", &VariantHeadMetrics::softmaxEntropy},
    {"entropy_gap", &VariantHeadMetrics::entropyGap},
    {"effective_rank", &VariantHeadMetrics::effectiveRank},
    {"softmax_effective_rank", &VariantHeadMetrics::softmaxEffectiveRank},
    {"stable_rank", &VariantHeadMetrics::stableRank},
    {"softmax_stable_rank", &VariantHeadMetrics::softmaxStableRank},
    {"kept_mass", &VariantHeadMetrics::keptMass},
    {"neg_mass", &VariantHeadMetrics::negMass},
    {"sink_mass", &VariantHeadMetrics::sinkMass},
    {"softmax_sink_mass", &VariantHeadMetrics::softmaxSinkMass},
};

nlohmann::json metricsJson(const VariantHeadMetrics& m) {
    nlohmann::json j = {{"head", m.head}};
    for (const auto& [name, member] : kMetrics) j[name] = m.*member;
    j["zero_rows"] = m.zeroRows;
    return j;
}

VariantHeadMetrics metricsOf(const codec::JsonReader& j) {
    VariantHeadMetrics m;
    m.head = int(j.integer("head", -1, 1 << 20));
    for (const auto& [name, member] : kMetrics) m.*member = j.number(name);
    m.zeroRows = j.integer("zero_rows", 0, int64_t(1) << 40);
    return m;
}

std::string klName(size_t i) { return "kl_" + std::to_string(i); }

}  // namespace

// Torch-free: the panel names families too.
const char* variantFamilyName(VariantFamily f) {
    switch (f) {
    case VariantFamily::Reference: return "reference";
    case VariantFamily::Linear: return "linear";
    case VariantFamily::Sparse: return "sparse";
    case VariantFamily::Normalisation: return "normalisation";
    case VariantFamily::Quantised: return "quantised";
    }
    return "?";
}

SessionSection encodeVariants(const VariantsResult& r) {
    SessionSection s;
    nlohmann::json runs = nlohmann::json::array();
    for (size_t i = 0; i < r.variants.size(); ++i) {
        const VariantRun& v = r.variants[i];
        nlohmann::json heads = nlohmann::json::array();
        for (const VariantHeadMetrics& m : v.heads) heads.push_back(metricsJson(m));
        nlohmann::json j = {{"name", v.name}, {"params", v.params}, {"param_text", v.paramText},
                            {"note", v.note}, {"heads", heads},     {"mean", metricsJson(v.mean)}};
        if (v.hasEndToEnd) {
            const VariantEndToEnd& e = v.endToEnd;
            j["end_to_end"] = {{"kl_mean", e.klMean},
                               {"kl_max", e.klMax},
                               {"top1", e.top1},
                               {"held_out_from", e.heldOutFrom},
                               {"ppl", e.ppl},
                               {"ppl_original", e.pplOriginal},
                               {"ppl_delta", e.ppl - e.pplOriginal},
                               {"continuation", e.continuation},
                               {"continuation_original", e.continuationOriginal}};
            s.tensors[klName(i)] = SessionTensor::f64({int64_t(e.kl.size())}, e.kl);
        }
        runs.push_back(std::move(j));
    }
    s.params = {
        {"layer", r.layer}, {"head", r.head}, {"all_layers", r.allLayers}, {"tokens", r.tokens}, {"variants", runs}};
    if (r.hasPair) {
        const VariantHeadPair& p = r.pair;
        s.params["pair"] = {{"layer", p.layer},
                            {"head", p.head},
                            {"name", p.name},
                            {"params", p.params},
                            {"curve_name", p.variant.curveName},
                            {"note", p.variant.note},
                            {"metrics", metricsJson(p.metrics)},
                            {"tile",
                             {{"q0", p.tile.q0},
                              {"q1", p.tile.q1},
                              {"k0", p.tile.k0},
                              {"k1", p.tile.k1},
                              {"rows", p.tile.rows},
                              {"cols", p.tile.cols},
                              {"pooled", p.tile.pooled}}}};
        for (const auto& [tag, o] :
             {std::pair<const char*, const VariantHeadOutput*>{"softmax", &p.softmax}, {"variant", &p.variant}}) {
            s.tensors[std::string("map_") + tag] =
                SessionTensor::f32({p.tile.rows, p.tile.cols}, std::vector<float>(o->map.begin(), o->map.end()));
            s.tensors[std::string("entropy_") + tag] = SessionTensor::f64({p.T}, o->rowEntropy);
        }
        if (!p.variant.rowCurve.empty()) s.tensors["curve_variant"] = SessionTensor::f64({p.T}, p.variant.rowCurve);
    }
    return s;
}

VariantsResult decodeVariants(const SessionSection& s) {
    const codec::JsonReader p(s.params, kPanel);
    VariantsResult r;
    r.layer = int(p.integer("layer", 0, 1 << 16));
    r.head = int(p.integer("head", -1, 1 << 16));
    r.allLayers = p.boolean("all_layers", false);
    r.tokens = p.integer("tokens", 1, kSessionMaxTokens);
    const std::vector<codec::JsonReader> runs = p.objects("variants", kMaxVariants);
    for (size_t i = 0; i < runs.size(); ++i) {
        const codec::JsonReader& j = runs[i];
        VariantRun v;
        v.name = j.str("name");
        v.params = j.numberMap("params");
        v.paramText = j.str("param_text", "");
        v.note = j.str("note", "");
        for (const codec::JsonReader& h : j.objects("heads", kMaxHeads)) v.heads.push_back(metricsOf(h));
        v.mean = metricsOf(j.object("mean"));
        if (j.has("end_to_end")) {
            const codec::JsonReader e = j.object("end_to_end");
            VariantEndToEnd& t = v.endToEnd;
            t.klMean = e.number("kl_mean");
            t.klMax = e.number("kl_max");
            t.top1 = e.number("top1");
            t.heldOutFrom = e.integer("held_out_from", 0, r.tokens);
            t.ppl = e.number("ppl");
            t.pplOriginal = e.number("ppl_original");
            for (int64_t id : e.integers("continuation", kMaxContinuation, 0, INT32_MAX))
                t.continuation.push_back(int32_t(id));
            for (int64_t id : e.integers("continuation_original", kMaxContinuation, 0, INT32_MAX))
                t.continuationOriginal.push_back(int32_t(id));
            t.kl = s.require(kPanel, klName(i), SessionTensor::Type::F64, {r.tokens}).toF64(klName(i));
            v.hasEndToEnd = true;
        }
        r.variants.push_back(std::move(v));
    }
    if (p.has("pair")) {
        const codec::JsonReader j = p.object("pair");
        VariantHeadPair& q = r.pair;
        q.layer = int(j.integer("layer", 0, 1 << 16));
        q.head = int(j.integer("head", 0, 1 << 16));
        q.name = j.str("name");
        q.params = j.numberMap("params");
        q.variant.curveName = j.str("curve_name", "");
        q.variant.note = j.str("note", "");
        q.metrics = metricsOf(j.object("metrics"));
        q.T = r.tokens;
        VariantTile& t = q.tile;
        if (j.has("tile")) {  // sessions before tiles held the whole T x T map
            const codec::JsonReader k = j.object("tile");
            t.q0 = k.integer("q0", 0, q.T - 1);
            t.q1 = k.integer("q1", t.q0 + 1, q.T);
            t.k0 = k.integer("k0", 0, q.T - 1);
            t.k1 = k.integer("k1", t.k0 + 1, q.T);
            t.rows = int(k.integer("rows", 1, std::min<int64_t>(4096, t.q1 - t.q0)));
            t.cols = int(k.integer("cols", 1, std::min<int64_t>(4096, t.k1 - t.k0)));
            t.pooled = k.boolean("pooled", false);
        } else {
            if (q.T > 4096) j.bad("the map pair of " + std::to_string(q.T) + " tokens is larger than the lab makes");
            t = {0, q.T, 0, q.T, int(q.T), int(q.T), false};
        }
        for (const auto& [tag, o] :
             {std::pair<const char*, VariantHeadOutput*>{"softmax", &q.softmax}, {"variant", &q.variant}}) {
            const std::string map = std::string("map_") + tag, entropy = std::string("entropy_") + tag;
            const std::vector<float> m = s.require(kPanel, map, SessionTensor::Type::F32, {t.rows, t.cols}).toF32(map);
            o->map.assign(m.begin(), m.end());
            o->rowEntropy = s.require(kPanel, entropy, SessionTensor::Type::F64, {q.T}).toF64(entropy);
        }
        if (s.has("curve_variant"))
            q.variant.rowCurve =
                s.require(kPanel, "curve_variant", SessionTensor::Type::F64, {q.T}).toF64("curve_variant");
        r.hasPair = true;
    }
    return r;
}

}  // namespace attnscope
