// Session sections of the attention maps and the head-score grid.
#include "attnscope/error.h"
#include "attnscope/session_codecs.h"

#include <algorithm>

namespace attnscope {

using nlohmann::json;
using Type = SessionTensor::Type;

namespace {
[[noreturn]] void bad(const std::string& msg) { fail(ErrorKind::BadInput, msg); }

int jsonInt(const json& j, const char* key, const std::string& where, int dflt) {
    if (!j.contains(key)) return dflt;
    if (!j[key].is_number_integer()) bad(where + ": parameter '" + key + "' must be an integer");
    return j[key].get<int>();
}
std::string jsonStr(const json& j, const char* key, const std::string& where, const std::string& dflt) {
    if (!j.contains(key)) return dflt;
    if (!j[key].is_string()) bad(where + ": parameter '" + key + "' must be a string");
    return j[key].get<std::string>();
}
}  // namespace

const StoredAttentionMap* AttentionSection::find(int l, int h) const {
    for (const auto& m : maps)
        if (m.layer == l && m.head == h) return &m;
    return nullptr;
}

SessionSection encodeAttention(const AttentionSection& a) {
    SessionSection s;
    s.params = {{"layer", a.layer}, {"head", a.head}, {"layers", a.nLayers}, {"heads", a.nHeads},
                {"colormap", a.colormap}, {"scale", a.scale}};
    if (a.maps.empty()) return s;
    const int64_t n = int64_t(a.maps.size()), rows = a.maps[0].matrix.rows, cols = a.maps[0].matrix.cols;
    std::vector<float> data;
    std::vector<int32_t> index;
    std::vector<int64_t> extent;
    data.reserve(size_t(n * rows * cols));
    for (const auto& m : a.maps) {
        if (m.matrix.rows != rows || m.matrix.cols != cols || int64_t(m.matrix.data.size()) != rows * cols)
            fail(ErrorKind::Internal, "attention maps of one session must share one shape");
        data.insert(data.end(), m.matrix.data.begin(), m.matrix.data.end());
        index.insert(index.end(), {m.layer, m.head});
        extent.insert(extent.end(), {m.q0, m.q1, m.k0, m.k1});
    }
    s.tensors["maps"] = SessionTensor::f32({n, rows, cols}, data);
    s.tensors["map_index"] = SessionTensor::i32({n, 2}, index);
    s.tensors["map_extent"] = SessionTensor::i64({n, 4}, extent);
    return s;
}

AttentionSection decodeAttention(const SessionSection& s) {
    const std::string where = "attention";
    AttentionSection a;
    a.layer = jsonInt(s.params, "layer", where, 0);
    a.head = jsonInt(s.params, "head", where, 0);
    a.nLayers = jsonInt(s.params, "layers", where, 0);
    a.nHeads = jsonInt(s.params, "heads", where, 0);
    a.colormap = jsonStr(s.params, "colormap", where, a.colormap);
    a.scale = jsonStr(s.params, "scale", where, a.scale);
    if (!s.has("maps")) return a;
    const SessionTensor& maps = s.require(where, "maps", Type::F32, {-1, -1, -1});
    const int64_t n = maps.shape[0], rows = maps.shape[1], cols = maps.shape[2];
    auto index = s.require(where, "map_index", Type::I32, {n, 2}).toI32(where + "/map_index");
    auto extent = s.require(where, "map_extent", Type::I64, {n, 4}).toI64(where + "/map_extent");
    auto data = maps.toF32(where + "/maps");
    for (int64_t i = 0; i < n; ++i) {
        StoredAttentionMap m;
        m.layer = index[size_t(2 * i)];
        m.head = index[size_t(2 * i + 1)];
        m.q0 = extent[size_t(4 * i)], m.q1 = extent[size_t(4 * i + 1)];
        m.k0 = extent[size_t(4 * i + 2)], m.k1 = extent[size_t(4 * i + 3)];
        if (m.layer < 0 || m.head < -1 || m.q0 < 0 || m.q1 < m.q0 || m.k0 < 0 || m.k1 < m.k0 ||
            m.q1 - m.q0 < rows || m.k1 - m.k0 < cols)
            bad("attention/map_index, map_extent: entry " + std::to_string(i) + " is inconsistent");
        m.matrix.rows = rows;
        m.matrix.cols = cols;
        m.matrix.data.assign(data.begin() + i * rows * cols, data.begin() + (i + 1) * rows * cols);
        a.nLayers = std::max(a.nLayers, m.layer + 1);
        a.nHeads = std::max(a.nHeads, m.head + 1);
        a.maps.push_back(std::move(m));
    }
    if (a.nLayers > (1 << 16) || a.nHeads > (1 << 16) || a.nLayers < 0 || a.nHeads < 0)
        bad("attention: parameters 'layers'/'heads' are out of range");
    return a;
}

SessionSection encodeHeadScores(const HeadScoresSection& h) {
    SessionSection s;
    s.params = {{"score", h.score}, {"tokens", h.tokens}, {"sampled_rows", h.sampledRows}};
    const std::vector<int64_t> shape = {h.nLayers, h.nHeads};
    s.tensors["entropy"] = SessionTensor::f32(shape, h.entropy);
    s.tensors["first_token"] = SessionTensor::f32(shape, h.firstToken);
    s.tensors["previous_token"] = SessionTensor::f32(shape, h.previousToken);
    s.tensors["diagonal"] = SessionTensor::f32(shape, h.diagonal);
    return s;
}

HeadScoresSection decodeHeadScores(const SessionSection& s) {
    const std::string where = "heads";
    HeadScoresSection h;
    h.score = jsonStr(s.params, "score", where, h.score);
    if (!s.params.contains("tokens") || !s.params["tokens"].is_number_integer())
        bad("heads: parameter 'tokens' must be an integer");
    h.tokens = s.params["tokens"].get<int64_t>();
    if (s.params.contains("sampled_rows") && s.params["sampled_rows"].is_number_integer())
        h.sampledRows = s.params["sampled_rows"].get<int64_t>();
    const SessionTensor& e = s.require(where, "entropy", Type::F32, {-1, -1});
    h.nLayers = int(e.shape[0]);
    h.nHeads = int(e.shape[1]);
    const std::vector<int64_t> shape = {h.nLayers, h.nHeads};
    h.entropy = e.toF32("heads/entropy");
    h.firstToken = s.require(where, "first_token", Type::F32, shape).toF32("heads/first_token");
    h.previousToken = s.require(where, "previous_token", Type::F32, shape).toF32("heads/previous_token");
    h.diagonal = s.require(where, "diagonal", Type::F32, shape).toF32("heads/diagonal");
    return h;
}

}  // namespace attnscope
