#include "attnscope/trace_export.h"

#include <cstring>

#include "attnscope/error.h"
#include "attnscope/trace.h"
#include "io/safetensors.h"

namespace attnscope {
namespace {

void appendFloats(std::vector<uint8_t>& bytes, const std::vector<float>& v) {
    const size_t at = bytes.size();
    bytes.resize(at + v.size() * sizeof(float));
    if (!v.empty()) std::memcpy(bytes.data() + at, v.data(), v.size() * sizeof(float));
}

}  // namespace

void exportTrace(const Trace& t, const std::string& path, const TraceExportOptions& o) {
    using io::NamedBuffer;
    using io::StDType;
    const int64_t T = t.length(), L = t.nLayers(), H = t.nHeads();
    if (o.attentions && L * H * T * T > (int64_t(1) << 28))
        fail(ErrorKind::BadInput, "the prompt is too long to export full attention maps (L*H*T^2 > 2^28)");
    std::vector<NamedBuffer> out;

    NamedBuffer ids{"input_ids", StDType::I64, {T}, {}};
    for (int32_t id : t.ids()) {
        const int64_t v = id;
        const auto* p = reinterpret_cast<const uint8_t*>(&v);
        ids.bytes.insert(ids.bytes.end(), p, p + sizeof v);
    }
    out.push_back(std::move(ids));

    const Matrix2D logits = t.logits();
    NamedBuffer lg{"logits", StDType::F32, {logits.rows, logits.cols}, {}};
    appendFloats(lg.bytes, logits.data);
    out.push_back(std::move(lg));

    // hidden_states[0] = embeddings (input of layer 0), [l+1] = output of layer l.
    const Matrix2D first = t.captured(Capture::ResidIn, 0);
    NamedBuffer hs{"hidden_states", StDType::F32, {L + 1, T, first.cols}, {}};
    appendFloats(hs.bytes, first.data);
    for (int l = 0; l < L; ++l) appendFloats(hs.bytes, t.captured(Capture::ResidOut, l).data);
    out.push_back(std::move(hs));

    if (o.attentions) {
        NamedBuffer at{"attentions", StDType::F32, {L, H, T, T}, {}};
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) appendFloats(at.bytes, t.attentionTile(l, h, 0, T, 0, T).data);
        out.push_back(std::move(at));
    }
    io::writeSafetensors(path, out, {{"producer", "attnscope"}});
}

}  // namespace attnscope
