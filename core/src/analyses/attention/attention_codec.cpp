// Session section of the attention maps (docs/session-format.md).
#include <algorithm>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "session/codec_json.h"

namespace attnscope {

using Type = SessionTensor::Type;

namespace {
constexpr int64_t kMaxLayers = 1 << 16, kMaxHeads = 1 << 16;
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
    const codec::JsonReader p(s.params, where);
    AttentionSection a;
    a.layer = int(p.integer("layer", -1, kMaxLayers, 0));
    a.head = int(p.integer("head", -1, kMaxHeads, 0));  // -1: the mean over heads
    a.nLayers = int(p.integer("layers", 0, kMaxLayers, 0));
    a.nHeads = int(p.integer("heads", 0, kMaxHeads, 0));
    a.colormap = p.str("colormap", a.colormap);
    a.scale = p.str("scale", a.scale);
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
            p.bad("map_index, map_extent: entry " + std::to_string(i) + " is inconsistent");
        m.matrix.rows = rows;
        m.matrix.cols = cols;
        m.matrix.data.assign(data.begin() + i * rows * cols, data.begin() + (i + 1) * rows * cols);
        a.nLayers = std::max(a.nLayers, m.layer + 1);
        a.nHeads = std::max(a.nHeads, m.head + 1);
        a.maps.push_back(std::move(m));
    }
    if (a.nLayers > kMaxLayers || a.nHeads > kMaxHeads)
        p.bad("the stored maps' layers or heads exceed " + std::to_string(kMaxLayers));
    return a;
}

}  // namespace attnscope
