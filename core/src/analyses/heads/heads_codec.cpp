// The head-role table's plain functions and its session section (docs/session-format.md).
// Torch-free (attnscope_io): widgets and the codec use them without the detectors.
#include <algorithm>
#include <cmath>
#include <limits>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "session/codec_json.h"

namespace attnscope {

using Type = SessionTensor::Type;

int HeadScores::indexOf(const std::string& id) const {
    for (size_t i = 0; i < infos.size(); ++i)
        if (infos[i].id == id) return int(i);
    return -1;
}

const std::vector<float>* HeadScores::find(const std::string& id) const {
    const int i = indexOf(id);
    return i < 0 || size_t(i) >= values.size() ? nullptr : &values[size_t(i)];
}

HeadScores emptyHeadScores(int nLayers, int nHeads, std::vector<HeadDetectorInfo> infos) {
    HeadScores t;
    t.nLayers = nLayers;
    t.nHeads = nHeads;
    t.infos = std::move(infos);
    t.values.assign(t.infos.size(),
                    std::vector<float>(size_t(nLayers) * size_t(nHeads), std::numeric_limits<float>::quiet_NaN()));
    return t;
}

void mergeHeadLayer(HeadScores& table, const HeadLayerScores& layer) {
    bool fits = layer.layer >= 0 && layer.layer < table.nLayers && layer.infos.size() == table.infos.size() &&
                layer.values.size() == table.values.size();
    for (size_t d = 0; fits && d < layer.infos.size(); ++d)
        fits = layer.infos[d].id == table.infos[d].id && int(layer.values[d].size()) == table.nHeads;
    if (!fits) fail(ErrorKind::BadInput, "head scores: layer does not fit the table");
    const size_t at = size_t(layer.layer) * size_t(table.nHeads);
    for (size_t d = 0; d < layer.values.size(); ++d)
        std::copy(layer.values[d].begin(), layer.values[d].end(), table.values[d].begin() + ptrdiff_t(at));
    for (const auto& [id, note] : layer.notes) table.notes[id] = note;
}

std::vector<std::string> headRoles(const HeadScores& table) {
    const size_t n = size_t(table.nLayers) * size_t(table.nHeads);
    std::vector<std::string> roles(n);
    std::vector<double> best(n, 0.0);
    std::vector<bool> pattern(n, false);  // a pattern role was found: secondary roles do not apply
    for (bool secondary : {false, true}) {
        for (size_t d = 0; d < table.infos.size() && d < table.values.size(); ++d) {
            const HeadDetectorInfo& info = table.infos[d];
            if (info.role.empty() || info.secondary != secondary || table.values[d].size() != n) continue;
            for (size_t i = 0; i < n; ++i) {
                const double v = table.values[d][i];
                if (!(v >= info.threshold) || (secondary && pattern[i])) continue;  // NaN: no role
                const double rel = info.threshold > 0 ? v / info.threshold : std::numeric_limits<double>::infinity();
                if (roles[i].empty() || rel > best[i]) {
                    roles[i] = info.role;
                    best[i] = rel;
                }
            }
        }
        if (!secondary)
            for (size_t i = 0; i < n; ++i) pattern[i] = !roles[i].empty();
    }
    return roles;
}

std::vector<std::string> headRoleNames(const HeadScores& table) {
    std::vector<std::string> names;
    for (const HeadDetectorInfo& info : table.infos)
        if (!info.role.empty() && std::find(names.begin(), names.end(), info.role) == names.end())
            names.push_back(info.role);
    return names;
}

namespace {

// Sections written before the detectors had descriptions stored four tensors of these.
HeadDetectorInfo legacyInfo(const std::string& id) {
    if (id == "first_token") return {id, "Mass on first token", "mean attention to token 0", "", "sink", 0.5};
    if (id == "previous_token") return {id, "Previous-token score", "mean A[i, i\u22121]", "", "previous-token", 0.4};
    if (id == "diagonal") return {id, "Diagonal (self) score", "mean A[i, i]", "", "self", 0.4};
    return {id, "Entropy", "mean row entropy (nats)", "", "", 0};
}

}  // namespace

SessionSection encodeHeadScores(const HeadScoresSection& h) {
    SessionSection s;
    s.params = {{"score", h.score}, {"tokens", h.tokens}, {"sampled_rows", h.sampledRows}};
    s.params["detectors"] = nlohmann::json::array();
    for (const HeadDetectorInfo& i : h.infos)
        s.params["detectors"].push_back({{"id", i.id},
                                         {"title", i.title},
                                         {"axis", i.axis},
                                         {"help", i.help},
                                         {"role", i.role},
                                         {"threshold", i.threshold},
                                         {"secondary", i.secondary}});
    s.params["notes"] = h.notes;
    const std::vector<int64_t> shape = {h.nLayers, h.nHeads};
    for (size_t d = 0; d < h.infos.size() && d < h.values.size(); ++d)
        s.tensors[h.infos[d].id] = SessionTensor::f32(shape, h.values[d]);
    return s;
}

HeadScoresSection decodeHeadScores(const SessionSection& s) {
    const std::string where = "heads";
    const codec::JsonReader p(s.params, where);
    HeadScoresSection h;
    h.score = p.str("score", h.score);
    h.tokens = p.integer("tokens", 0, kSessionMaxTokens);
    h.sampledRows = p.integer("sampled_rows", 0, kSessionMaxTokens, h.sampledRows);
    if (p.has("detectors")) {
        for (const codec::JsonReader& d : p.objects("detectors", 256)) {
            HeadDetectorInfo i{d.str("id"),
                               d.str("title"),
                               d.str("axis", ""),
                               d.str("help", ""),
                               d.str("role", ""),
                               d.number("threshold", 0),
                               d.boolean("secondary", false)};
            if (i.id.empty() || i.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos)
                p.bad("detector id '" + i.id + "' is not [a-z_]+");
            h.infos.push_back(std::move(i));
        }
    } else {
        for (const char* id : {"entropy", "first_token", "previous_token", "diagonal"})
            h.infos.push_back(legacyInfo(id));
    }
    if (h.infos.empty()) p.bad("no detectors");
    if (p.has("notes") && p.raw().at("notes").is_object())
        for (const auto& [id, note] : p.raw().at("notes").items())
            if (note.is_string()) h.notes[id] = note.get<std::string>();
    const SessionTensor& first = s.require(where, h.infos[0].id, Type::F32, {-1, -1});
    h.nLayers = int(first.shape[0]);
    h.nHeads = int(first.shape[1]);
    const std::vector<int64_t> shape = {h.nLayers, h.nHeads};
    for (const HeadDetectorInfo& i : h.infos)
        h.values.push_back(s.require(where, i.id, Type::F32, shape).toF32(where + "/" + i.id));
    if (h.score != "roles" && h.indexOf(h.score) < 0) h.score = h.infos[0].id;
    return h;
}

}  // namespace attnscope
