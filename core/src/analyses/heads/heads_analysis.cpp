// The head-roles registry entry: options, section, `attnscope-cli heads` and its JSON
// (definitions in attnscope/analyses/head_scores.h).
#include <sstream>

#include "analyses/analysis_list.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/session_codecs.h"

namespace attnscope {
namespace {

std::vector<std::string> commaList(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

nlohmann::json grid(const std::vector<float>& v, int L, int H) {
    nlohmann::json rows = nlohmann::json::array();
    for (int l = 0; l < L; ++l) {
        nlohmann::json row = nlohmann::json::array();
        for (int h = 0; h < H; ++h) {
            const float x = v[size_t(l * H + h)];
            row.push_back(x == x ? nlohmann::json(x) : nlohmann::json(nullptr));  // NaN: null
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// {"detectors": {id: [[L][H]]}, "roles": [[L][H]], "legend": {id: {title, role, threshold}}, "notes": {...}}
nlohmann::json headsJson(const SessionSection& section) {
    const HeadScores t = decodeHeadScores(section);
    nlohmann::json j = {{"tokens", t.tokens}, {"layers", t.nLayers}, {"heads", t.nHeads}, {"notes", t.notes}};
    j["detectors"] = nlohmann::json::object();
    j["legend"] = nlohmann::json::object();
    for (size_t d = 0; d < t.infos.size(); ++d) {
        const HeadDetectorInfo& i = t.infos[d];
        j["detectors"][i.id] = grid(t.values[d], t.nLayers, t.nHeads);
        j["legend"][i.id] = {{"title", i.title},
                             {"axis", i.axis},
                             {"role", i.role},
                             {"threshold", i.threshold},
                             {"secondary", i.secondary}};
    }
    const std::vector<std::string> roles = headRoles(t);
    j["roles"] = nlohmann::json::array();
    for (int l = 0; l < t.nLayers; ++l)
        j["roles"].push_back(
            std::vector<std::string>(roles.begin() + l * t.nHeads, roles.begin() + (l + 1) * t.nHeads));
    return j;
}

}  // namespace

HeadDetectorParams headDetectorParams(const Options& o) {
    HeadDetectorParams p;
    p.detectors = commaList(o.str("--detector"));
    p.inductionLength = o.integer("--induction-len", p.inductionLength);
    if (p.inductionLength < 2 || p.inductionLength > 100000)
        fail(ErrorKind::BadInput, "--induction-len must be 2..100000");
    p.seed = uint64_t(o.integer64("--seed", 0));
    p.answer = o.str("--answer");
    const std::string eol = o.str("--eol", "newline");
    if (eol != "newline" && eol != "content") fail(ErrorKind::BadInput, "--eol must be newline or content");
    p.eolNewline = eol == "newline";
    const std::string rows = o.str("--rows", "matched");
    if (rows != "matched" && rows != "all") fail(ErrorKind::BadInput, "--rows must be matched or all");
    p.matchedRows = rows == "matched";
    for (const std::string& e : commaList(o.str("--exclude"))) {
        if (e == "bos") p.excludeBos = true;
        else if (e == "current") p.excludeCurrent = true;
        else fail(ErrorKind::BadInput, "--exclude takes bos and/or current, not '" + e + "'");
    }
    p.streamSinks = o.integer("--stream-sinks", p.streamSinks);
    p.streamWindow = o.integer("--stream-window", p.streamWindow);
    if (p.streamSinks < 0 || p.streamWindow < 1)
        fail(ErrorKind::BadInput, "--stream-sinks >= 0 and --stream-window >= 1");
    for (const std::string& kv : commaList(o.str("--threshold"))) {
        const size_t eq = kv.find('=');
        if (eq == std::string::npos)
            fail(ErrorKind::BadInput, "--threshold takes detector=value pairs, not '" + kv + "'");
        Options one;
        one.set("v", kv.substr(eq + 1));
        p.thresholds[kv.substr(0, eq)] = one.number("v", -1);
    }
    return p;
}

AnalysisSpec headsAnalysis() {
    AnalysisSpec spec{
        "heads",
        "Head roles",
        "per-head detector scores (previous-token, induction, duplicate-token, copying, select-and-copy, "
        "retrieval, sink, self, entropy) and each head's role",
        {{"--detector", "ids to compute, comma-separated (default: all)"},
         {"--induction-len", "n: random tokens repeated for induction_repeated (50)"},
         {"--seed", "seed of the random tokens (0)"},
         {"--answer", "the gold option letter of a multiple-choice prompt (select_copy_*)"},
         {"--eol", "option key token: newline (the newline ending its line) | content (the token before it)"},
         {"--rows", "duplicate/induction rows: matched (with a pattern entry) | all (TransformerLens)"},
         {"--exclude", "bos,current: zero A[:, 0] and/or A[i, i] in the pattern scores"},
         {"--stream-sinks", "retrieval: sink tokens of the streaming mask (4)"},
         {"--stream-window", "retrieval: recent keys of the streaming mask (256)"},
         {"--threshold", "role thresholds, detector=value,..."}},
        /*verb=*/true,
        [](Inspector& inspector, const Options& o, const Session&, const JobControl& job) {
            return encodeHeadScores(inspector.headScores(headDetectorParams(o), job));
        },
        validateBy(decodeHeadScores)};
    spec.json = headsJson;
    return spec;
}

}  // namespace attnscope
