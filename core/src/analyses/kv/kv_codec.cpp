// Session section of the KV-cache eviction panel (docs/session-format.md, "kv"): the
// parameters of A and B as JSON, their decisions (kept sets and visibility limits), A's
// local and end-to-end metrics and the budget sweep as tensors. Every floating-point
// number is a tensor, so a round trip is bit-exact (JSON would turn NaN into null).
#include <algorithm>
#include <array>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "session/codec_json.h"

namespace attnscope {

using nlohmann::json;
using Type = SessionTensor::Type;

namespace {

using codec::JsonReader;
constexpr int64_t kMaxLayers = 4096, kMaxHeads = 4096;
constexpr std::array<const char*, 3> kGranularities = {"query_head", "kv_head", "layer"};  // KvGranularity order
constexpr std::array<const char*, 2> kModes = {"prefill", "decode"};                      // KvMode order
constexpr std::array<const char*, 5> kSweepMetrics = {"kl", "top1", "retained_mass", "output_rel_err", "ppl"};
constexpr std::array<const char*, 6> kSweepColumns = {"kl", "top1", "ppl", "ppl_full", "retained_mass", "output_rel_err"};

// --- policies and parameters ---------------------------------------------------------------

json policyJson(const KvPolicyInfo& p) {
    json params = json::array();
    for (const KvParamSpec& s : p.params)
        params.push_back({{"name", s.name}, {"default", s.defaultValue}, {"min", s.minValue}, {"max", s.maxValue},
                          {"choices", s.choices}, {"help", s.help}, {"input", s.input}});
    return {{"name", p.name}, {"title", p.title}, {"source", p.source}, {"decode", p.decode},
            {"precision", p.precision}, {"params", params}};
}

KvPolicyInfo policyFrom(const JsonReader& j) {
    KvPolicyInfo p;
    p.name = j.str("name");
    p.title = j.str("title");
    p.source = j.str("source");
    p.decode = j.boolean("decode");
    p.precision = j.boolean("precision");
    for (const JsonReader& s : j.objects("params", 64)) {
        KvParamSpec spec;
        spec.name = s.str("name");
        spec.defaultValue = s.number("default");
        spec.minValue = s.number("min");
        spec.maxValue = s.number("max");
        spec.choices = s.strings("choices", 64);
        spec.help = s.str("help");
        spec.input = s.boolean("input");
        p.params.push_back(std::move(spec));
    }
    return p;
}

json paramsJson(const KvParams& p) {
    json values = json::object();
    for (const auto& [name, v] : p.values) values[name] = v;
    return {{"policy", p.policy}, {"budget", p.budget}, {"mode", kModes[size_t(p.mode)]}, {"values", values}};
}

KvParams paramsFrom(const JsonReader& j) {
    KvParams p;
    p.policy = j.str("policy");
    p.budget = j.integer("budget", 0, int64_t(1) << 40);
    p.mode = KvMode(j.choice("mode", kModes));
    p.values = j.numberMap("values");
    return p;
}

// --- selections: "<pfx>.kept_count" [L, heads], "<pfx>.kept" (concatenated, sorted per
// head), "<pfx>.until" [L, heads, T], "<pfx>.layer_budget" [L] ------------------------------

void putSelection(SessionSection& out, const std::string& pfx, const KvSelection& s) {
    const int64_t L = s.nLayers, heads = s.heads, T = s.T;
    if (int64_t(s.kept.size()) != L || int64_t(s.until.size()) != L * heads * T || int64_t(s.layerBudget.size()) != L)
        fail(ErrorKind::BadInput, "kv: the selection of " + s.policy + " is inconsistent with its shape");
    std::vector<int64_t> counts, kept;
    for (const auto& layer : s.kept) {
        if (int64_t(layer.size()) != heads) fail(ErrorKind::BadInput, "kv: a layer of " + s.policy + " lacks heads");
        for (const auto& head : layer) {
            counts.push_back(int64_t(head.size()));
            kept.insert(kept.end(), head.begin(), head.end());
        }
    }
    out.params[pfx] = {{"policy", s.policy},       {"granularity", kGranularities[size_t(s.granularity)]},
                       {"mode", kModes[size_t(s.mode)]}, {"precision", s.precision},
                       {"high_bits", s.highBits},  {"low_bits", s.lowBits},
                       {"tokens", T},              {"prompt_tokens", s.promptLength},
                       {"layers", L},              {"query_heads", s.nHeads},
                       {"kv_heads", s.nKvHeads},   {"heads", heads}};
    out.tensors[pfx + ".kept_count"] = SessionTensor::i64({L, heads}, counts);
    out.tensors[pfx + ".kept"] = SessionTensor::i64({int64_t(kept.size())}, kept);
    out.tensors[pfx + ".until"] = SessionTensor::i64({L, heads, T}, s.until);
    out.tensors[pfx + ".layer_budget"] = SessionTensor::i64({L}, s.layerBudget);
}

KvSelection getSelection(const SessionSection& in, const std::string& pfx) {
    const JsonReader j = JsonReader(in.params, "kv").object(pfx.c_str());
    KvSelection s;
    s.policy = j.str("policy");
    s.granularity = KvGranularity(j.choice("granularity", kGranularities));
    s.mode = KvMode(j.choice("mode", kModes));
    s.precision = j.boolean("precision");
    s.highBits = int(j.integer("high_bits", 1, 32));
    s.lowBits = int(j.integer("low_bits", 1, 32));
    s.T = j.integer("tokens", 0, kSessionMaxTokens);
    s.promptLength = j.integer("prompt_tokens", 0, s.T);
    s.nLayers = int(j.integer("layers", 0, kMaxLayers));
    s.nHeads = int(j.integer("query_heads", 1, kMaxHeads));
    s.nKvHeads = int(j.integer("kv_heads", 1, s.nHeads));
    if (s.nHeads % s.nKvHeads) j.bad("query heads must be a multiple of KV heads");
    s.heads = int(j.integer("heads", 1, s.nHeads));
    const int64_t L = s.nLayers, H = s.heads;
    const std::vector<int64_t> counts =
        in.require("kv", pfx + ".kept_count", Type::I64, {L, H}).toI64("kv/" + pfx + ".kept_count");
    const std::vector<int64_t> kept = in.require("kv", pfx + ".kept", Type::I64, {-1}).toI64("kv/" + pfx + ".kept");
    s.until = in.require("kv", pfx + ".until", Type::I64, {L, H, s.T}).toI64("kv/" + pfx + ".until");
    s.layerBudget = in.require("kv", pfx + ".layer_budget", Type::I64, {L}).toI64("kv/" + pfx + ".layer_budget");
    size_t at = 0;
    s.kept.assign(size_t(L), std::vector<std::vector<int64_t>>(size_t(H)));
    for (int64_t i = 0; i < L * H; ++i) {
        const int64_t n = counts[size_t(i)];
        if (n < 0 || n > s.T || int64_t(kept.size() - at) < n)
            j.bad(pfx + ".kept_count does not match " + pfx + ".kept");
        std::vector<int64_t>& head = s.kept[size_t(i / H)][size_t(i % H)];
        head.assign(kept.begin() + int64_t(at), kept.begin() + int64_t(at) + n);
        at += size_t(n);
        for (size_t k = 0; k < head.size(); ++k)
            if (head[k] < 0 || head[k] >= s.T || (k && head[k] <= head[k - 1]))
                j.bad(pfx + ".kept holds a position outside the tokens or out of order");
    }
    if (at != kept.size()) j.bad(pfx + ".kept has more entries than " + pfx + ".kept_count says");
    return s;
}

// --- local and end-to-end metrics ------------------------------------------------------------

using HeadVector = std::vector<float> KvLayerMetrics::*;
constexpr std::array<std::pair<const char*, HeadVector>, 3> kHeadMetrics = {{
    {"local.head_retained_mass", &KvLayerMetrics::headRetainedMass},
    {"local.head_output_rel_err", &KvLayerMetrics::headOutputRelErr},
    {"local.head_resid_err", &KvLayerMetrics::headResidErr},
}};

void putMetrics(SessionSection& out, const KvLocalMetrics& m) {
    const int64_t L = int64_t(m.layers.size());
    std::vector<double> layers;
    for (const KvLayerMetrics& y : m.layers) layers.insert(layers.end(), {y.retainedMass, y.outputRelErr, y.residErr, y.layerRelErr});
    out.params["local_queries"] = m.queries;
    out.tensors["local.means"] = SessionTensor::f64({2}, {m.retainedMass, m.outputRelErr});
    out.tensors["local.layers"] = SessionTensor::f64({L, 4}, layers);
    for (const auto& [name, member] : kHeadMetrics) {
        const int64_t n = L ? int64_t((m.layers[0].*member).size()) : 0;
        std::vector<float> v;
        for (const KvLayerMetrics& y : m.layers) {
            if (int64_t((y.*member).size()) != n) fail(ErrorKind::BadInput, std::string("kv: ") + name + " differs in length between layers");
            v.insert(v.end(), (y.*member).begin(), (y.*member).end());
        }
        out.tensors[name] = SessionTensor::f32({L, n}, v);
    }
}

KvLocalMetrics getMetrics(const SessionSection& in, const JsonReader& j) {
    KvLocalMetrics m;
    m.queries = j.integer("local_queries", 0, kSessionMaxTokens);
    const std::vector<double> means = in.require("kv", "local.means", Type::F64, {2}).toF64("kv/local.means");
    m.retainedMass = means[0];
    m.outputRelErr = means[1];
    const std::vector<double> layers = in.require("kv", "local.layers", Type::F64, {-1, 4}).toF64("kv/local.layers");
    const int64_t L = int64_t(layers.size() / 4);
    if (L > kMaxLayers) j.bad("local.layers has too many layers");
    m.layers.resize(size_t(L));
    for (int64_t l = 0; l < L; ++l) {
        KvLayerMetrics& y = m.layers[size_t(l)];
        const double* v = layers.data() + 4 * l;
        y.retainedMass = v[0], y.outputRelErr = v[1], y.residErr = v[2], y.layerRelErr = v[3];
    }
    for (const auto& [name, member] : kHeadMetrics) {
        const SessionTensor& t = in.require("kv", name, Type::F32, {L, -1});
        const std::vector<float> v = t.toF32(std::string("kv/") + name);
        const int64_t n = t.shape[1];
        for (int64_t l = 0; l < L; ++l)
            m.layers[size_t(l)].*member = std::vector<float>(v.begin() + l * n, v.begin() + (l + 1) * n);
    }
    return m;
}

void putEndToEnd(SessionSection& out, const KvEndToEnd& e) {
    out.params["e2e_steps"] = e.steps;
    out.tensors["e2e.values"] = SessionTensor::f64({4}, {e.kl, e.top1, e.ppl, e.pplFull});
    out.tensors["e2e.step_kl"] = SessionTensor::f32({int64_t(e.stepKl.size())}, e.stepKl);
    out.tensors["e2e.step_top1"] = SessionTensor::u8({int64_t(e.stepTop1.size())}, e.stepTop1);
}

KvEndToEnd getEndToEnd(const SessionSection& in, const JsonReader& j) {
    KvEndToEnd e;
    e.steps = int(j.integer("e2e_steps", 0, kSessionMaxTokens));
    const std::vector<double> v = in.require("kv", "e2e.values", Type::F64, {4}).toF64("kv/e2e.values");
    e.kl = v[0], e.top1 = v[1], e.ppl = v[2], e.pplFull = v[3];
    e.stepKl = in.require("kv", "e2e.step_kl", Type::F32, {-1}).toF32("kv/e2e.step_kl");
    e.stepTop1 = in.require("kv", "e2e.step_top1", Type::U8, {int64_t(e.stepKl.size())}).toU8("kv/e2e.step_top1");
    return e;
}

// --- the budget sweep: "sweep.policy" [N] indexes params.sweep_policies -------------------

void putSweep(SessionSection& out, const std::vector<KvSweepRow>& rows) {
    std::vector<std::string> names;
    std::vector<int32_t> policy;
    std::vector<int64_t> budget;
    std::vector<double> values;
    for (const KvSweepRow& r : rows) {
        auto it = std::find(names.begin(), names.end(), r.policy);
        if (it == names.end()) it = names.insert(names.end(), r.policy);
        policy.push_back(int32_t(it - names.begin()));
        budget.push_back(r.budget);
        values.insert(values.end(), {r.kl, r.top1, r.ppl, r.pplFull, r.retainedMass, r.outputRelErr});
    }
    const int64_t n = int64_t(rows.size());
    out.params["sweep_policies"] = names;
    out.params["sweep_columns"] = kSweepColumns;
    out.tensors["sweep.policy"] = SessionTensor::i32({n}, policy);
    out.tensors["sweep.budget"] = SessionTensor::i64({n}, budget);
    out.tensors["sweep.values"] = SessionTensor::f64({n, int64_t(kSweepColumns.size())}, values);
}

std::vector<KvSweepRow> getSweep(const SessionSection& in, const JsonReader& j) {
    const std::vector<std::string> names = j.strings("sweep_policies", 4096);
    j.expect("sweep_columns", kSweepColumns);
    const std::vector<int32_t> policy = in.require("kv", "sweep.policy", Type::I32, {-1}).toI32("kv/sweep.policy");
    const int64_t n = int64_t(policy.size()), nc = int64_t(kSweepColumns.size());
    const std::vector<int64_t> budget = in.require("kv", "sweep.budget", Type::I64, {n}).toI64("kv/sweep.budget");
    const std::vector<double> values = in.require("kv", "sweep.values", Type::F64, {n, nc}).toF64("kv/sweep.values");
    std::vector<KvSweepRow> rows;
    for (int64_t i = 0; i < n; ++i) {
        const int32_t p = policy[size_t(i)];
        if (p < 0 || size_t(p) >= names.size()) j.bad("sweep.policy indexes no policy name");
        const double* v = values.data() + i * nc;
        rows.push_back({names[size_t(p)], budget[size_t(i)], v[0], v[1], v[2], v[3], v[4], v[5]});
    }
    return rows;
}

}  // namespace

SessionSection encodeKv(const KvSection& k) {
    SessionSection s;
    json policies = json::array();
    for (const KvPolicyInfo& p : k.policies) policies.push_back(policyJson(p));
    s.params = {{"policies", policies}, {"params", paramsJson(k.params)}, {"end_to_end", k.hasEndToEnd},
                {"compare", k.hasCompare}, {"sweep_metric", k.sweepMetric}, {"sweep_log", k.sweepLog}, {"step", k.step}};
    JsonReader(s.params, "kv").choice("sweep_metric", kSweepMetrics);  // refuse writing what cannot be read
    putSelection(s, "sel", k.selection);
    putMetrics(s, k.metrics);
    if (k.hasEndToEnd) putEndToEnd(s, k.endToEnd);
    if (k.hasCompare) {
        s.params["compare_params"] = paramsJson(k.compareParams);
        putSelection(s, "cmp", k.compare);
    }
    putSweep(s, k.sweep);
    s.tensors["sinks"] = SessionTensor::i64({int64_t(k.sinks.size())}, k.sinks);
    if (!k.tokens.pieces.empty() && k.tokens.pieces.size() != k.tokens.ids.size())
        fail(ErrorKind::BadInput, "kv: token pieces and ids differ in count");
    s.params["token_pieces"] = k.tokens.pieces;
    s.tensors["token_ids"] = SessionTensor::i32({int64_t(k.tokens.ids.size())}, k.tokens.ids);
    return s;
}

KvSection decodeKv(const SessionSection& s) {
    const JsonReader j(s.params, "kv");
    KvSection k;
    for (const JsonReader& p : j.objects("policies", 256)) k.policies.push_back(policyFrom(p));
    k.params = paramsFrom(j.object("params"));
    k.selection = getSelection(s, "sel");
    if (k.selection.policy != k.params.policy) j.bad("the stored decision is not of the stored policy");
    k.metrics = getMetrics(s, j);
    if (!k.metrics.layers.empty() && int(k.metrics.layers.size()) != k.selection.nLayers)
        j.bad("the local metrics and the decision differ in layers");
    k.hasEndToEnd = j.boolean("end_to_end");
    if (k.hasEndToEnd) k.endToEnd = getEndToEnd(s, j);
    k.hasCompare = j.boolean("compare");
    if (k.hasCompare) {
        k.compareParams = paramsFrom(j.object("compare_params"));
        k.compare = getSelection(s, "cmp");
        if (k.compare.T != k.selection.T || k.compare.nLayers != k.selection.nLayers ||
            k.compare.nHeads != k.selection.nHeads)
            j.bad("decisions A and B come from different runs");
    }
    k.sweep = getSweep(s, j);
    k.sweepMetric = kSweepMetrics[size_t(j.choice("sweep_metric", kSweepMetrics))];
    k.sweepLog = j.boolean("sweep_log");
    k.step = int(j.integer("step", 0, kSessionMaxTokens));
    k.sinks = s.require("kv", "sinks", Type::I64, {-1}).toI64("kv/sinks");
    for (int64_t p : k.sinks)
        if (p < 0 || p >= k.selection.T) j.bad("a sink position lies outside the tokens");
    k.tokens.ids = s.require("kv", "token_ids", Type::I32, {-1}).toI32("kv/token_ids");
    if (!k.tokens.ids.empty() && int64_t(k.tokens.ids.size()) != k.selection.T)
        j.bad("token_ids covers " + std::to_string(k.tokens.ids.size()) + " tokens, the decision " +
              std::to_string(k.selection.T));
    k.tokens.pieces = j.strings("token_pieces", k.tokens.ids.size());
    if (!k.tokens.pieces.empty() && k.tokens.pieces.size() != k.tokens.ids.size())
        j.bad("'token_pieces' and token_ids differ in count");
    return k;
}

}  // namespace attnscope
