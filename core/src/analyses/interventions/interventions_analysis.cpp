// The interventions' registry entries: intervene (an ablation, or the causal sink test),
// patch (activation patching) and logit_lens, with their CLI options and JSON.
#include <sstream>

#include "analyses/analysis_list.h"
#include "attnscope/analyses/interventions.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"

namespace attnscope {
namespace {

template <class T>
std::vector<T> numbers(const Options& o, const std::string& key, const char* what) {
    std::vector<T> out;
    std::stringstream in(o.str(key));
    for (std::string item; std::getline(in, item, ',');) {
        if (item.empty()) continue;
        try {
            size_t used = 0;
            const long long v = std::stoll(item, &used);
            if (used != item.size()) throw std::invalid_argument(item);
            out.push_back(T(v));
        } catch (const std::exception&) {
            fail(ErrorKind::BadInput, key + " expects comma-separated " + what + ", got '" + item + "'");
        }
    }
    return out;
}

// A token given as text (its first token, without BOS) or as an id.
int32_t tokenOption(Inspector& inspector, const Options& o, const std::string& text, const std::string& id) {
    if (o.has(id)) return int32_t(o.integer64(id, -1));
    if (!o.has(text)) return -1;
    const std::vector<int32_t> ids = inspector.tokenize(o.str(text), false);
    if (ids.empty()) fail(ErrorKind::BadInput, text + " '" + o.str(text) + "' tokenizes to nothing");
    return ids[0];
}

SessionSection intervene(Inspector& inspector, const Options& o, const Session&, const JobControl& job) {
    const std::vector<int32_t>& ids = inspector.prompt();
    InterventionSection out;
    if (o.has("--sink-test")) {
        SinkTestParams p;
        p.sinks = sinkParamsFrom(o);
        if (o.str("--sink-test") != "auto") p.token = o.integer64("--sink-test", -1);
        p.mode = o.str("--mode", "zero");
        if (p.mode != "zero" && p.mode != "mean")
            fail(ErrorKind::BadInput, "--mode of the sink test must be zero or mean");
        out.kind = "sink_test";
        out.sinkTest = sinkCausalTest(inspector.model(), ids, p, job);
        return encodeIntervention(out);
    }
    AblationParams p;
    p.what = o.str("--ablate", p.what);
    p.layer = o.integer("--layer", 0);
    p.heads = numbers<int>(o, "--heads", "head indices");
    p.mode = o.str("--mode", p.what == "head" ? "mean" : "zero");
    p.scale = o.number("--scale", 0.0);
    if (o.has("--scale") && !o.has("--mode")) p.mode = "scale";
    p.tokens = numbers<int64_t>(o, "--tokens", "token positions");
    const std::string span = o.str("--kv-layers", "later");
    if (span != "later" && span != "one") fail(ErrorKind::BadInput, "--kv-layers must be later or one");
    p.laterLayers = span == "later";
    p.target = tokenOption(inspector, o, "--target", "--target-id");
    out.ablation = runIntervention(inspector.model(), ids, p, sinkParamsFrom(o), job);
    return encodeIntervention(out);
}

nlohmann::json interveneJson(const SessionSection& s) {
    const InterventionSection in = decodeIntervention(s);
    nlohmann::json j = s.params;
    if (in.kind == "sink_test") {
        for (size_t i = 0; i < in.sinkTest.rows.size(); ++i) {
            j["rows"][i]["score_before"] = in.sinkTest.rows[i].scoreBefore;
            j["rows"][i]["score_after"] = in.sinkTest.rows[i].scoreAfter;
        }
        return j;
    }
    const InterventionResult& r = in.ablation;
    j["kl"] = r.kl;
    j["logit_delta"] = r.logitDelta;
    j["logprob_delta"] = r.logprobDelta;
    j["top1"] = r.top1;
    j["ablated_top1"] = r.ablatedTop1;
    j["sinks"] = nlohmann::json::array();
    const size_t L = size_t(r.nLayers);
    for (size_t i = 0; i < r.tracked.size(); ++i)
        j["sinks"].push_back({{"token", r.tracked[i]},
                              {"lifetime_before", r.lifetimeBefore[i]},
                              {"lifetime_after", r.lifetimeAfter[i]},
                              {"score_before", std::vector<float>(r.scoreBefore.begin() + ptrdiff_t(i * L),
                                                                  r.scoreBefore.begin() + ptrdiff_t((i + 1) * L))},
                              {"score_after", std::vector<float>(r.scoreAfter.begin() + ptrdiff_t(i * L),
                                                                 r.scoreAfter.begin() + ptrdiff_t((i + 1) * L))}});
    return j;
}

SessionSection patch(Inspector& inspector, const Options& o, const Session&, const JobControl& job) {
    PatchParams p;
    p.clean = inspector.prompt();
    if (!o.has("--corrupt-prompt")) fail(ErrorKind::BadInput, "patch needs --corrupt-prompt (and the clean prompt)");
    p.corrupt = inspector.tokenize(o.str("--corrupt-prompt"), !o.has("--no-bos"));
    p.answer = tokenOption(inspector, o, "--answer", "--answer-id");
    p.wrong = tokenOption(inspector, o, "--wrong", "--wrong-id");
    if (p.answer < 0 || p.wrong < 0)
        fail(ErrorKind::BadInput, "patch needs --answer and --wrong (text or --answer-id/--wrong-id)");
    p.what = o.str("--what", "resid");
    return encodePatch(activationPatching(inspector.model(), p, job));
}

nlohmann::json patchJson(const SessionSection& s) {
    const PatchResult r = decodePatch(s);
    nlohmann::json j = s.params;
    const int64_t cols = r.what == "head" ? r.nHeads : r.T;
    auto rows = [&](const std::vector<float>& v) {
        nlohmann::json m = nlohmann::json::array();
        for (int l = 0; l < r.nLayers; ++l) {
            nlohmann::json row = nlohmann::json::array();
            for (int64_t c = 0; c < cols; ++c) {
                const float x = v[size_t(l * cols + c)];
                row.push_back(x == x ? nlohmann::json(x) : nlohmann::json(nullptr));
            }
            m.push_back(std::move(row));
        }
        return m;
    };
    j["normalized"] = rows(r.normalized);  // [L][T] (resid, mlp) or [L][H] (head)
    j["delta"] = rows(r.delta);
    return j;
}

SessionSection lens(Inspector& inspector, const Options& o, const Session&, const JobControl& job) {
    LogitLensParams p;
    p.target = tokenOption(inspector, o, "--target", "--target-id");
    p.topK = o.integer("--top-k", p.topK);
    return encodeLogitLens(logitLens(inspector.model(), inspector.prompt(), p, job));
}

nlohmann::json lensJson(const SessionSection& s) {
    const LogitLens l = decodeLogitLens(s);
    nlohmann::json j = s.params;
    j["layers_view"] = nlohmann::json::array();
    for (int layer = 0; layer < l.nLayers; ++layer) {
        nlohmann::json positions = nlohmann::json::array();
        for (int64_t t = 0; t < l.T; ++t) {
            const size_t at = size_t(layer) * size_t(l.T) + size_t(t), k0 = at * size_t(l.topK);
            nlohmann::json e = {{"top", std::vector<int32_t>(l.top.begin() + ptrdiff_t(k0),
                                                             l.top.begin() + ptrdiff_t(k0 + size_t(l.topK)))},
                                {"top_prob", std::vector<float>(l.topProb.begin() + ptrdiff_t(k0),
                                                                l.topProb.begin() + ptrdiff_t(k0 + size_t(l.topK)))},
                                {"kl_to_final", l.klToFinal[at]},
                                {"final_rank", l.finalRank[at]}};
            if (l.target >= 0) e.update({{"target_prob", l.targetProb[at]}, {"target_rank", l.targetRank[at]}});
            positions.push_back(std::move(e));
        }
        j["layers_view"].push_back(std::move(positions));
    }
    return j;
}

}  // namespace

AnalysisSpec interveneAnalysis() {
    AnalysisSpec spec{"intervene",
                      "Interventions",
                      "ablate a head, a layer's attention or MLP output at tokens, tokens' keys or the sink's, and "
                      "re-run: next-token KL, the target's logit change, sinks before and after; or --sink-test",
                      {{"--ablate", "none|head|attn|mlp|kv|sink (head)"},
                       {"--layer", "the layer ablated (kv, sink: the first)"},
                       {"--heads", "head: the heads, comma-separated (all)"},
                       {"--mode", "zero|mean|scale (head: mean; else zero)"},
                       {"--scale", "scale mode: y <- c*y"},
                       {"--tokens", "positions ablated (all); kv: the keys hidden"},
                       {"--kv-layers", "kv, sink: later (the layer and every later one) | one"},
                       {"--target", "the token whose logit change is reported, as text (each position's top-1)"},
                       {"--target-id", "... or as an id"},
                       {"--sink-test", "auto|TOKEN: ablate the MLP output creating this sink, with controls"}},
                      /*verb=*/true,
                      intervene,
                      [](const Session&, const SessionSection& s) { (void)decodeIntervention(s); }};
    spec.json = interveneJson;
    spec.inDefaultSession = false;
    return spec;
}

AnalysisSpec patchAnalysis() {
    AnalysisSpec spec{"patch",
                      "Activation Patching",
                      "clean activations patched into a corrupted prompt one at a time: normalised logit difference "
                      "by layer x position (resid, mlp) or layer x head",
                      {{"--clean-prompt", "the clean prompt (or --prompt)"},
                       {"--corrupt-prompt", "the corrupted prompt, of the same token length"},
                       {"--answer", "the clean answer (text: its first token)"},
                       {"--wrong", "the corrupted answer"},
                       {"--answer-id", "... or as ids"},
                       {"--wrong-id", ""},
                       {"--what", "resid|mlp|head (resid)"}},
                      /*verb=*/true,
                      patch,
                      [](const Session&, const SessionSection& s) { (void)decodePatch(s); }};
    spec.json = patchJson;
    spec.inDefaultSession = false;
    spec.promptOption = "--clean-prompt";
    return spec;
}

AnalysisSpec logitLensAnalysis() {
    AnalysisSpec spec{"logit_lens",
                      "Logit Lens",
                      "every layer's residual stream through the final norm and unembedding: top tokens, KL to the "
                      "output, rank of the output's token (and of --target)",
                      {{"--target", "a token followed through the layers, as text"},
                       {"--target-id", "... or as an id"},
                       {"--top-k", "top tokens kept per layer and position (5)"}},
                      /*verb=*/true,
                      lens,
                      [](const Session&, const SessionSection& s) { (void)decodeLogitLens(s); }};
    spec.json = lensJson;
    spec.verbName = "logit-lens";
    return spec;
}

}  // namespace attnscope
