// Session sections of the interventions: intervene (an ablation or the causal sink test), patch
// and logit_lens (docs/session-format.md). Torch-free (attnscope_io).
#include "attnscope/analyses/interventions.h"
#include "attnscope/error.h"
#include "session/codec_json.h"

namespace attnscope {
namespace {

using Type = SessionTensor::Type;
constexpr int kMaxLayers = 4096;

nlohmann::json piecesJson(const std::map<int32_t, std::string>& pieces) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [id, piece] : pieces) j[std::to_string(id)] = piece;
    return j;
}

std::map<int32_t, std::string> piecesFrom(const codec::JsonReader& p) {
    std::map<int32_t, std::string> out;
    if (!p.has("pieces") || !p.raw().at("pieces").is_object()) return out;
    for (const auto& [key, v] : p.raw().at("pieces").items()) {
        if (!v.is_string()) p.bad("pieces: '" + key + "' is not a string");
        try {
            out[int32_t(std::stol(key))] = v.get<std::string>();
        } catch (const std::exception&) {
            p.bad("pieces: key '" + key + "' is not a token id");
        }
    }
    return out;
}

std::vector<float> grid(const SessionSection& s, const std::string& where, const std::string& name, int64_t rows,
                        int64_t cols) {
    return s.require(where, name, Type::F32, {rows, cols}).toF32(where + "/" + name);
}

}  // namespace

SessionSection encodeIntervention(const InterventionSection& in) {
    SessionSection s;
    s.params["kind"] = in.kind;
    if (in.kind == "sink_test") {
        const SinkTestResult& t = in.sinkTest;
        s.params.update(
            {{"token", t.token}, {"creation_layer", t.creationLayer}, {"primary", t.primary}, {"note", t.note}});
        s.params["rows"] = nlohmann::json::array();
        std::vector<float> before, after;
        for (const SinkTestRow& r : t.rows) {
            s.params["rows"].push_back({{"label", r.label},
                                        {"token", r.token},
                                        {"layer", r.layer},
                                        {"mode", r.mode},
                                        {"scale", r.scale},
                                        {"lifetime_before", r.lifetimeBefore},
                                        {"lifetime_after", r.lifetimeAfter},
                                        {"mlp_norm", r.mlpNorm},
                                        {"cos_primary", r.cosPrimary},
                                        {"mean_kl", r.meanKl}});
            before.insert(before.end(), r.scoreBefore.begin(), r.scoreBefore.end());
            after.insert(after.end(), r.scoreAfter.begin(), r.scoreAfter.end());
        }
        const int64_t L = t.rows.empty() ? 0 : int64_t(t.rows[0].scoreBefore.size());
        s.params["layers"] = L;
        s.tensors["score_before"] = SessionTensor::f32({int64_t(t.rows.size()), L}, before);
        s.tensors["score_after"] = SessionTensor::f32({int64_t(t.rows.size()), L}, after);
        return s;
    }
    const InterventionResult& r = in.ablation;
    const AblationParams& p = r.params;
    s.params.update({{"what", p.what},
                     {"layer", p.layer},
                     {"heads_ablated", p.heads},
                     {"mode", p.mode},
                     {"scale", p.scale},
                     {"tokens_ablated", p.tokens},
                     {"later_layers", p.laterLayers},
                     {"target", p.target},
                     {"tokens", r.T},
                     {"layers", r.nLayers},
                     {"heads", r.nHeads},
                     {"mean_kl", r.meanKl},
                     {"max_kl", r.maxKl},
                     {"top1_agreement", r.top1Agreement},
                     {"tracked", r.tracked},
                     {"lifetime_before", r.lifetimeBefore},
                     {"lifetime_after", r.lifetimeAfter},
                     {"note", r.note},
                     {"pieces", piecesJson(r.pieces)}});
    s.tensors["kl"] = SessionTensor::f32({r.T}, r.kl);
    s.tensors["logit_delta"] = SessionTensor::f32({r.T}, r.logitDelta);
    s.tensors["logprob_delta"] = SessionTensor::f32({r.T}, r.logprobDelta);
    s.tensors["top1"] = SessionTensor::i32({r.T}, r.top1);
    s.tensors["ablated_top1"] = SessionTensor::i32({r.T}, r.ablatedTop1);
    s.tensors["score_before"] = SessionTensor::f32({int64_t(r.tracked.size()), r.nLayers}, r.scoreBefore);
    s.tensors["score_after"] = SessionTensor::f32({int64_t(r.tracked.size()), r.nLayers}, r.scoreAfter);
    return s;
}

InterventionSection decodeIntervention(const SessionSection& s) {
    const std::string where = "intervene";
    const codec::JsonReader p(s.params, where);
    InterventionSection out;
    out.kind = p.str("kind");
    if (out.kind == "sink_test") {
        SinkTestResult& t = out.sinkTest;
        t.token = p.integer("token", -1, kSessionMaxTokens);
        t.creationLayer = int(p.integer("creation_layer", -1, kMaxLayers));
        t.primary = p.integer("primary", 0, kSessionMaxTokens);
        t.note = p.str("note", "");
        const int64_t L = p.integer("layers", 0, kMaxLayers);
        const std::vector<codec::JsonReader> rows = p.objects("rows", 64);
        const std::vector<float> before = grid(s, where, "score_before", int64_t(rows.size()), L),
                                 after = grid(s, where, "score_after", int64_t(rows.size()), L);
        for (size_t i = 0; i < rows.size(); ++i) {
            const codec::JsonReader& r = rows[i];
            SinkTestRow row;
            row.label = r.str("label");
            row.token = r.integer("token", 0, kSessionMaxTokens);
            row.layer = int(r.integer("layer", 0, kMaxLayers));
            row.mode = r.str("mode");
            row.scale = r.number("scale");
            row.lifetimeBefore = int(r.integer("lifetime_before", 0, kMaxLayers));
            row.lifetimeAfter = int(r.integer("lifetime_after", 0, kMaxLayers));
            row.mlpNorm = float(r.number("mlp_norm"));
            row.cosPrimary = float(r.number("cos_primary"));
            row.meanKl = r.number("mean_kl");
            row.scoreBefore.assign(before.begin() + ptrdiff_t(i * size_t(L)),
                                   before.begin() + ptrdiff_t((i + 1) * size_t(L)));
            row.scoreAfter.assign(after.begin() + ptrdiff_t(i * size_t(L)),
                                  after.begin() + ptrdiff_t((i + 1) * size_t(L)));
            t.rows.push_back(std::move(row));
        }
        return out;
    }
    if (out.kind != "ablation") p.bad("kind must be ablation or sink_test");
    InterventionResult& r = out.ablation;
    AblationParams& a = r.params;
    a.what = p.str("what");
    a.layer = int(p.integer("layer", 0, kMaxLayers));
    for (int64_t h : p.integers("heads_ablated", 4096, 0, 4096)) a.heads.push_back(int(h));
    a.mode = p.str("mode");
    a.scale = p.number("scale");
    a.tokens = p.integers("tokens_ablated", size_t(kSessionMaxTokens), 0, kSessionMaxTokens);
    a.laterLayers = p.boolean("later_layers");
    a.target = int32_t(p.integer("target", -1, int64_t(1) << 31));
    r.T = p.integer("tokens", 1, kSessionMaxTokens);
    r.nLayers = int(p.integer("layers", 1, kMaxLayers));
    r.nHeads = int(p.integer("heads", 1, 4096));
    r.meanKl = p.number("mean_kl");
    r.maxKl = p.number("max_kl");
    r.top1Agreement = p.number("top1_agreement");
    r.tracked = p.integers("tracked", 64, 0, kSessionMaxTokens);
    for (int64_t v : p.integers("lifetime_before", 64, 0, kMaxLayers)) r.lifetimeBefore.push_back(int32_t(v));
    for (int64_t v : p.integers("lifetime_after", 64, 0, kMaxLayers)) r.lifetimeAfter.push_back(int32_t(v));
    if (r.lifetimeBefore.size() != r.tracked.size() || r.lifetimeAfter.size() != r.tracked.size())
        p.bad("lifetimes do not match the tracked tokens");
    r.note = p.str("note", "");
    r.pieces = piecesFrom(p);
    r.kl = s.require(where, "kl", Type::F32, {r.T}).toF32(where + "/kl");
    r.logitDelta = s.require(where, "logit_delta", Type::F32, {r.T}).toF32(where + "/logit_delta");
    r.logprobDelta = s.require(where, "logprob_delta", Type::F32, {r.T}).toF32(where + "/logprob_delta");
    r.top1 = s.require(where, "top1", Type::I32, {r.T}).toI32(where + "/top1");
    r.ablatedTop1 = s.require(where, "ablated_top1", Type::I32, {r.T}).toI32(where + "/ablated_top1");
    r.scoreBefore = grid(s, where, "score_before", int64_t(r.tracked.size()), r.nLayers);
    r.scoreAfter = grid(s, where, "score_after", int64_t(r.tracked.size()), r.nLayers);
    return out;
}

SessionSection encodePatch(const PatchResult& r) {
    SessionSection s;
    s.params = {{"what", r.what},        {"layers", r.nLayers},       {"heads", r.nHeads},        {"tokens", r.T},
                {"ld_clean", r.ldClean}, {"ld_corrupt", r.ldCorrupt}, {"undefined", r.undefined}, {"note", r.note}};
    const int64_t cols = r.what == "head" ? r.nHeads : r.T;
    s.tensors["normalized"] = SessionTensor::f32({r.nLayers, cols}, r.normalized);
    s.tensors["delta"] = SessionTensor::f32({r.nLayers, cols}, r.delta);
    return s;
}

PatchResult decodePatch(const SessionSection& s) {
    const std::string where = "patch";
    const codec::JsonReader p(s.params, where);
    PatchResult r;
    r.what = p.str("what");
    if (r.what != "resid" && r.what != "mlp" && r.what != "head") p.bad("what must be resid, mlp or head");
    r.nLayers = int(p.integer("layers", 1, kMaxLayers));
    r.nHeads = int(p.integer("heads", 1, 4096));
    r.T = p.integer("tokens", 1, kSessionMaxTokens);
    r.ldClean = p.number("ld_clean");
    r.ldCorrupt = p.number("ld_corrupt");
    r.undefined = p.boolean("undefined");
    r.note = p.str("note", "");
    const int64_t cols = r.what == "head" ? r.nHeads : r.T;
    r.normalized = grid(s, where, "normalized", r.nLayers, cols);
    r.delta = grid(s, where, "delta", r.nLayers, cols);
    return r;
}

SessionSection encodeLogitLens(const LogitLens& l) {
    SessionSection s;
    s.params = {{"layers", l.nLayers},
                {"tokens", l.T},
                {"top_k", l.topK},
                {"target", l.target},
                {"pieces", piecesJson(l.pieces)}};
    s.tensors["top"] = SessionTensor::i32({l.nLayers, l.T, l.topK}, l.top);
    s.tensors["top_prob"] = SessionTensor::f32({l.nLayers, l.T, l.topK}, l.topProb);
    s.tensors["kl_to_final"] = SessionTensor::f32({l.nLayers, l.T}, l.klToFinal);
    s.tensors["final_rank"] = SessionTensor::i32({l.nLayers, l.T}, l.finalRank);
    if (l.target >= 0) {
        s.tensors["target_prob"] = SessionTensor::f32({l.nLayers, l.T}, l.targetProb);
        s.tensors["target_rank"] = SessionTensor::i32({l.nLayers, l.T}, l.targetRank);
    }
    return s;
}

LogitLens decodeLogitLens(const SessionSection& s) {
    const std::string where = "logit_lens";
    const codec::JsonReader p(s.params, where);
    LogitLens l;
    l.nLayers = int(p.integer("layers", 1, kMaxLayers));
    l.T = p.integer("tokens", 1, kSessionMaxTokens);
    l.topK = int(p.integer("top_k", 1, 100));
    l.target = int32_t(p.integer("target", -1, int64_t(1) << 31));
    l.pieces = piecesFrom(p);
    const std::vector<int64_t> lt = {l.nLayers, l.T}, ltk = {l.nLayers, l.T, l.topK};
    l.top = s.require(where, "top", Type::I32, ltk).toI32(where + "/top");
    l.topProb = s.require(where, "top_prob", Type::F32, ltk).toF32(where + "/top_prob");
    l.klToFinal = s.require(where, "kl_to_final", Type::F32, lt).toF32(where + "/kl_to_final");
    l.finalRank = s.require(where, "final_rank", Type::I32, lt).toI32(where + "/final_rank");
    if (l.target >= 0) {
        l.targetProb = s.require(where, "target_prob", Type::F32, lt).toF32(where + "/target_prob");
        l.targetRank = s.require(where, "target_rank", Type::I32, lt).toI32(where + "/target_rank");
    }
    return l;
}

}  // namespace attnscope
