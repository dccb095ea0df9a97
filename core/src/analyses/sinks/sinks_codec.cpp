// Session section of the sinks panel: parameters, the classification (so the panel redraws
// as it was), and the statistics it came from (so parameter edits re-classify without the
// model). Layout: docs/session-format.md.
#include <array>
#include <cmath>
#include <limits>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "session/codec_json.h"

namespace attnscope {

using nlohmann::json;
using Type = SessionTensor::Type;

namespace {

constexpr std::array<const char*, 3> kSources = {"auto", "hidden", "attention"};
constexpr std::array<const char*, 3> kRules = {"auto", "official", "relative"};

constexpr int kMaxLayers = 1 << 12, kMaxHeads = 1 << 12;

json paramsJson(const SinkParams& p) {
    return {{"epsilon", p.epsilon}, {"cos_threshold", p.cosThreshold}, {"min_query_pos", p.minQueryPos},
            {"bos_candidates", p.bosCandidates}, {"source", kSources[size_t(p.source)]},
            {"rule", kRules[size_t(p.rule)]}, {"sink_clipper", p.sinkClipper},
            {"noise_max_lifetime", p.noiseMaxLifetime}, {"primary_layer_margin", p.primaryLayerMargin},
            {"relative_cut", p.relativeCut}, {"relative_start_slack", p.relativeStartSlack},
            {"massive_min", p.massiveMin}, {"massive_median_ratio", p.massiveMedianRatio},
            {"fallback_min_score", p.fallbackMinScore}, {"fallback_median_ratio", p.fallbackMedianRatio}};
}

SinkParams paramsFrom(const codec::JsonReader& j) {
    SinkParams p;
    p.epsilon = j.number("epsilon");
    p.cosThreshold = j.number("cos_threshold");
    p.minQueryPos = j.integer("min_query_pos", 0, kSessionMaxTokens);
    p.bosCandidates = j.integers("bos_candidates", 64, 0, std::numeric_limits<int64_t>::max());
    p.source = SinkSource(j.choice("source", kSources));
    p.rule = SinkRule(j.choice("rule", kRules));
    p.sinkClipper = j.boolean("sink_clipper");
    p.noiseMaxLifetime = int(j.integer("noise_max_lifetime", 0, 1 << 16));
    p.primaryLayerMargin = int(j.integer("primary_layer_margin", 0, 1 << 16));
    p.relativeCut = j.number("relative_cut");
    p.relativeStartSlack = int(j.integer("relative_start_slack", 0, 1 << 16));
    p.massiveMin = j.number("massive_min");
    p.massiveMedianRatio = j.number("massive_median_ratio");
    p.fallbackMinScore = j.number("fallback_min_score");
    p.fallbackMedianRatio = j.number("fallback_median_ratio");
    return p;
}

json fitJson(const LinearFit& f) { return {f.slope, f.intercept, f.r, f.n}; }
LinearFit fitFrom(const codec::JsonReader& j, const char* key) {
    const std::vector<double> a = j.numbers(key, 4);
    if (a.size() != 4 || !(a[3] >= 0 && a[3] <= std::numeric_limits<int>::max()) || a[3] != std::floor(a[3]))
        j.bad(j.quoted(key) + " must be [slope, intercept, r, n] with an integer n");
    return {a[0], a[1], a[2], int(a[3])};
}

// Per-layer [T] arrays stacked to [L, T]; an array empty in every layer is stored as [L, 0].
template <class T, class Get>
std::vector<T> stack(const std::vector<SinkLayer>& layers, int64_t T_, Get get, int64_t* cols) {
    *cols = (!layers.empty() && !get(layers[0]).empty()) ? T_ : 0;
    std::vector<T> out;
    for (const SinkLayer& l : layers) {
        const auto& v = get(l);
        if (int64_t(v.size()) != *cols) fail(ErrorKind::Internal, "sinks: per-layer arrays differ in length");
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

}  // namespace

SessionSection encodeSinks(const SinksSection& s) {
    SessionSection out;
    const SinkResult& r = s.result;
    const int64_t L = r.nLayers, T = r.T;
    out.params = paramsJson(s.params);
    out.params["quantity"] = s.quantity;
    out.params["result"] = {{"T", T}, {"layers", L}, {"source", kSources[size_t(r.source)]},
                            {"rule", kRules[size_t(r.rule)]}, {"primary", r.primary}, {"onset", r.onset},
                            {"offset", r.offset}, {"score_vs_mlp_norm", fitJson(r.scoreVsMlpNorm)},
                            {"lifetime_vs_mlp_norm", fitJson(r.lifetimeVsMlpNorm)},
                            {"weakening_vs_creations", r.weakeningVsCreations}};
    auto& t = out.tensors;
    int64_t c = 0;
#define ATTN_STACK_F(name, member) \
    { auto v = stack<float>(r.layers, T, [](const SinkLayer& l) -> const std::vector<float>& { return l.member; }, &c); \
      t[name] = SessionTensor::f32({L, c}, v); }
#define ATTN_STACK_U(name, member) \
    { auto v = stack<uint8_t>(r.layers, T, [](const SinkLayer& l) -> const std::vector<uint8_t>& { return l.member; }, &c); \
      t[name] = SessionTensor::u8({L, c}, v); }
    ATTN_STACK_F("layer.sink_score", sinkScore)
    ATTN_STACK_F("layer.frac_heads", fracHeads)
    ATTN_STACK_F("layer.cos_to_primary", cosToPrimary)
    ATTN_STACK_F("layer.hidden_norm", hiddenNorm)
    ATTN_STACK_F("layer.mlp_cos_to_primary", mlpCosToPrimary)
    ATTN_STACK_F("layer.mlp_norm", mlpNorm)
    ATTN_STACK_U("layer.massive", massive)
    ATTN_STACK_U("layer.flagged", flagged)
#undef ATTN_STACK_F
#undef ATTN_STACK_U
    std::vector<float> scalars;
    std::vector<int32_t> created;
    for (const SinkLayer& l : r.layers) {
        scalars.insert(scalars.end(), {l.primaryStrength, l.weakening});
        created.push_back(l.secondaryCreated);
    }
    t["layer.scalars"] = SessionTensor::f32({L, 2}, scalars);
    t["layer.secondary_created"] = SessionTensor::i32({L}, created);
    t["primary_norm"] = SessionTensor::f32({int64_t(r.primaryNorm.size())}, r.primaryNorm);

    std::vector<int64_t> table;
    std::vector<float> floats;
    std::vector<int32_t> sinkLayers;
    for (const SinkToken& k : r.sinks) {
        table.insert(table.end(), {k.token, k.id, int64_t(k.cls), k.lifetime, k.creationLayer, k.maxRun,
                                   int64_t(k.layers.size())});
        floats.insert(floats.end(), {k.meanScore, k.mlpNormAtCreation, k.mlpCosAtCreation});
        sinkLayers.insert(sinkLayers.end(), k.layers.begin(), k.layers.end());
    }
    const int64_t S = int64_t(r.sinks.size());
    t["sinks.table"] = SessionTensor::i64({S, 7}, table);
    t["sinks.floats"] = SessionTensor::f32({S, 3}, floats);
    t["sinks.layers"] = SessionTensor::i32({int64_t(sinkLayers.size())}, sinkLayers);

    std::vector<int64_t> levels, levelTokens;
    std::vector<float> levelScore;
    for (const SinkLevel& v : r.levels) {
        levels.insert(levels.end(), {v.creationLayer, v.lifetime, v.count, int64_t(v.cls), int64_t(v.tokens.size())});
        levelScore.push_back(v.meanScore);
        levelTokens.insert(levelTokens.end(), v.tokens.begin(), v.tokens.end());
    }
    const int64_t V = int64_t(r.levels.size());
    t["levels.table"] = SessionTensor::i64({V, 5}, levels);
    t["levels.mean_score"] = SessionTensor::f32({V}, levelScore);
    t["levels.tokens"] = SessionTensor::i64({int64_t(levelTokens.size())}, levelTokens);

    if (s.hasInputs) {
        const SinkInputs& in = s.inputs;
        const int64_t R = int64_t(in.references.size()), IL = in.nLayers, IT = in.T, H = in.nHeads;
        out.params["inputs"] = {{"T", IT}, {"layers", IL}, {"heads", H}, {"min_query_pos", in.minQueryPos}};
        t["inputs.head_alpha"] = SessionTensor::f32({IL, H, IT}, in.headAlpha);
        t["inputs.sink_score"] = SessionTensor::f32({IL, IT}, in.sinkScore);
        t["inputs.score_median"] = SessionTensor::f32({IL}, in.scoreMedian);
        t["inputs.references"] = SessionTensor::i64({R}, in.references);
        const int64_t hT = in.hasHidden() ? IT : 0, mT = in.hasMlp() ? IT : 0;
        t["inputs.hidden_norm"] = SessionTensor::f32({IL, hT}, in.hiddenNorm);
        t["inputs.hidden_max_abs"] = SessionTensor::f32({IL, hT}, in.hiddenMaxAbs);
        t["inputs.hidden_median_abs"] = SessionTensor::f32({in.hasHidden() ? IL : 0}, in.hiddenMedianAbs);
        t["inputs.hidden_cos"] = SessionTensor::f32({in.hasHidden() ? R : 0, IL, hT}, in.hiddenCos);
        t["inputs.mlp_norm"] = SessionTensor::f32({IL, mT}, in.mlpNorm);
        t["inputs.mlp_cos"] = SessionTensor::f32({in.hasMlp() ? R : 0, IL, mT}, in.mlpCos);
    }
    return out;
}

SinksSection decodeSinks(const SessionSection& sec, const std::vector<int32_t>& tokenIds) {
    const std::string w = "sinks";
    SinksSection s;
    const codec::JsonReader p(sec.params, w);
    s.params = paramsFrom(p);
    s.quantity = p.str("quantity", s.quantity);
    const codec::JsonReader rj = p.object("result");
    SinkResult& r = s.result;
    r.T = rj.integer("T", 0, kSessionMaxTokens);
    r.nLayers = int(rj.integer("layers", 0, kMaxLayers));
    r.source = SinkSource(rj.choice("source", kSources));
    r.rule = SinkRule(rj.choice("rule", kRules));
    r.primary = rj.integer("primary", 0, std::max<int64_t>(0, r.T - 1));
    r.onset = int(rj.integer("onset", 0, r.nLayers));
    r.offset = int(rj.integer("offset", r.onset, r.nLayers));
    r.scoreVsMlpNorm = fitFrom(rj, "score_vs_mlp_norm");
    r.lifetimeVsMlpNorm = fitFrom(rj, "lifetime_vs_mlp_norm");
    r.weakeningVsCreations = rj.number("weakening_vs_creations");
    const int64_t L = r.nLayers, T = r.T;

    auto f32 = [&](const char* name, bool optional) {
        const SessionTensor& t = sec.require(w, name, Type::F32, {L, -1});
        if (t.shape[1] != T && !(optional && t.shape[1] == 0))
            p.bad(std::string(name) + ": expected " + std::to_string(T) + " columns");
        return std::make_pair(t.toF32(name), t.shape[1]);
    };
    auto u8 = [&](const char* name) { return sec.require(w, name, Type::U8, {L, T}).toU8(name); };
    auto [score, c0] = f32("layer.sink_score", false);
    auto [frac, c1] = f32("layer.frac_heads", false);
    auto [cosP, c2] = f32("layer.cos_to_primary", true);
    auto [hNorm, c3] = f32("layer.hidden_norm", true);
    auto [mCos, c4] = f32("layer.mlp_cos_to_primary", true);
    auto [mNorm, c5] = f32("layer.mlp_norm", true);
    auto massive = u8("layer.massive");
    auto flagged = u8("layer.flagged");
    auto scalars = sec.require(w, "layer.scalars", Type::F32, {L, 2}).toF32("layer.scalars");
    auto created = sec.require(w, "layer.secondary_created", Type::I32, {L}).toI32("layer.secondary_created");
    r.primaryNorm = sec.require(w, "primary_norm", Type::F32, {-1}).toF32("primary_norm");
    auto slice = [](const std::vector<float>& v, int64_t l, int64_t cols) {
        return std::vector<float>(v.begin() + l * cols, v.begin() + (l + 1) * cols);
    };
    r.layers.resize(size_t(L));
    for (int64_t l = 0; l < L; ++l) {
        SinkLayer& x = r.layers[size_t(l)];
        x.sinkScore = slice(score, l, c0);
        x.fracHeads = slice(frac, l, c1);
        x.cosToPrimary = slice(cosP, l, c2);
        x.hiddenNorm = slice(hNorm, l, c3);
        x.mlpCosToPrimary = slice(mCos, l, c4);
        x.mlpNorm = slice(mNorm, l, c5);
        x.massive.assign(massive.begin() + l * T, massive.begin() + (l + 1) * T);
        x.flagged.assign(flagged.begin() + l * T, flagged.begin() + (l + 1) * T);
        x.primaryStrength = scalars[size_t(2 * l)];
        x.weakening = scalars[size_t(2 * l + 1)];
        x.secondaryCreated = created[size_t(l)];
    }

    const SessionTensor& st = sec.require(w, "sinks.table", Type::I64, {-1, 7});
    const int64_t S = st.shape[0];
    auto table = st.toI64("sinks.table");
    auto floats = sec.require(w, "sinks.floats", Type::F32, {S, 3}).toF32("sinks.floats");
    auto layers = sec.require(w, "sinks.layers", Type::I32, {-1}).toI32("sinks.layers");
    size_t at = 0;
    for (int64_t i = 0; i < S; ++i) {
        const int64_t* row = table.data() + 7 * i;
        SinkToken k;
        if (row[0] < 0 || row[0] >= std::max<int64_t>(T, 1) || row[2] < 0 || row[2] > 3 || row[6] < 0 ||
            at + size_t(row[6]) > layers.size())
            p.bad("sinks.table row " + std::to_string(i) + " is inconsistent");
        k.token = row[0];
        k.id = int32_t(row[1]);
        k.cls = SinkClass(row[2]);
        k.lifetime = int(row[3]);
        k.creationLayer = int(row[4]);
        k.maxRun = int(row[5]);
        k.layers.assign(layers.begin() + int64_t(at), layers.begin() + int64_t(at) + row[6]);
        at += size_t(row[6]);
        k.meanScore = floats[size_t(3 * i)];
        k.mlpNormAtCreation = floats[size_t(3 * i + 1)];
        k.mlpCosAtCreation = floats[size_t(3 * i + 2)];
        r.sinks.push_back(std::move(k));
    }
    if (at != layers.size()) p.bad("sinks.layers holds more entries than the table counts");

    const SessionTensor& lt = sec.require(w, "levels.table", Type::I64, {-1, 5});
    const int64_t V = lt.shape[0];
    auto levels = lt.toI64("levels.table");
    auto levelScore = sec.require(w, "levels.mean_score", Type::F32, {V}).toF32("levels.mean_score");
    auto levelTokens = sec.require(w, "levels.tokens", Type::I64, {-1}).toI64("levels.tokens");
    at = 0;
    for (int64_t i = 0; i < V; ++i) {
        const int64_t* row = levels.data() + 5 * i;
        if (row[3] < 0 || row[3] > 3 || row[4] < 0 || at + size_t(row[4]) > levelTokens.size())
            p.bad("levels.table row " + std::to_string(i) + " is inconsistent");
        SinkLevel v;
        v.creationLayer = int(row[0]);
        v.lifetime = int(row[1]);
        v.count = int(row[2]);
        v.cls = SinkClass(row[3]);
        v.meanScore = levelScore[size_t(i)];
        v.tokens.assign(levelTokens.begin() + int64_t(at), levelTokens.begin() + int64_t(at) + row[4]);
        at += size_t(row[4]);
        r.levels.push_back(std::move(v));
    }
    if (at != levelTokens.size()) p.bad("levels.tokens holds more entries than the table counts");

    if (p.has("inputs")) {
        const codec::JsonReader ij = p.object("inputs");
        SinkInputs& in = s.inputs;
        in.T = ij.integer("T", 0, kSessionMaxTokens);
        in.nLayers = int(ij.integer("layers", 0, kMaxLayers));
        in.nHeads = int(ij.integer("heads", 0, kMaxHeads));
        in.minQueryPos = ij.integer("min_query_pos", 0, kSessionMaxTokens);
        if (int64_t(tokenIds.size()) != in.T)
            p.bad("the statistics cover " + std::to_string(in.T) + " tokens, the prompt has " +
                  std::to_string(tokenIds.size()));
        in.ids = tokenIds;
        const int64_t IL = in.nLayers, IT = in.T, H = in.nHeads;
        in.headAlpha = sec.require(w, "inputs.head_alpha", Type::F32, {IL, H, IT}).toF32("inputs.head_alpha");
        in.sinkScore = sec.require(w, "inputs.sink_score", Type::F32, {IL, IT}).toF32("inputs.sink_score");
        in.scoreMedian = sec.require(w, "inputs.score_median", Type::F32, {IL}).toF32("inputs.score_median");
        in.references = sec.require(w, "inputs.references", Type::I64, {-1}).toI64("inputs.references");
        const int64_t R = int64_t(in.references.size());
        for (int64_t ref : in.references)
            if (ref < 0 || ref >= IT) p.bad("inputs.references holds a position outside the prompt");
        const SessionTensor& hn = sec.require(w, "inputs.hidden_norm", Type::F32, {IL, -1});
        const int64_t hT = hn.shape[1];
        if (hT != 0 && hT != IT) p.bad("inputs.hidden_norm: expected 0 or T columns");
        in.hiddenNorm = hn.toF32("inputs.hidden_norm");
        in.hiddenMaxAbs = sec.require(w, "inputs.hidden_max_abs", Type::F32, {IL, hT}).toF32("inputs.hidden_max_abs");
        in.hiddenMedianAbs = sec.require(w, "inputs.hidden_median_abs", Type::F32, {hT ? IL : 0}).toF32("inputs.hidden_median_abs");
        in.hiddenCos = sec.require(w, "inputs.hidden_cos", Type::F32, {hT ? R : 0, IL, hT}).toF32("inputs.hidden_cos");
        const SessionTensor& mn = sec.require(w, "inputs.mlp_norm", Type::F32, {IL, -1});
        const int64_t mT = mn.shape[1];
        if (mT != 0 && mT != IT) p.bad("inputs.mlp_norm: expected 0 or T columns");
        in.mlpNorm = mn.toF32("inputs.mlp_norm");
        in.mlpCos = sec.require(w, "inputs.mlp_cos", Type::F32, {mT ? R : 0, IL, mT}).toF32("inputs.mlp_cos");
        s.hasInputs = true;
    }
    return s;
}

}  // namespace attnscope
