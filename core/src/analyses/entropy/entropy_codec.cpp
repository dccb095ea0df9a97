// Session codec of the entropy profile (torch-free: built into attnscope_io, so widgets and the
// figure export decode it without the core).
#include "attnscope/analyses/entropy.h"
#include "attnscope/error.h"

namespace attnscope {

SessionSection encodeEntropyProfile(const EntropyProfile& e) {
    SessionSection s;
    s.params = {{"layers", e.nLayers}, {"tokens", e.tokens}};
    s.tensors["entropy"] = SessionTensor::f32({e.nLayers, e.tokens}, e.entropy);
    s.tensors["layer_mean"] = SessionTensor::f32({e.nLayers}, e.layerMean);
    return s;
}

EntropyProfile decodeEntropyProfile(const SessionSection& s) {
    EntropyProfile e;
    const auto& p = s.params;
    if (!p.is_object() || !p.contains("layers") || !p["layers"].is_number_integer() || !p.contains("tokens") ||
        !p["tokens"].is_number_integer())
        fail(ErrorKind::BadInput, "entropy: params need integer 'layers' and 'tokens'");
    const int64_t layers = p["layers"].get<int64_t>(), tokens = p["tokens"].get<int64_t>();
    if (layers < 1 || layers > 4096 || tokens < 1 || tokens > (int64_t(1) << 24))
        fail(ErrorKind::BadInput, "entropy: layers or tokens out of range");
    e.nLayers = int(layers);
    e.tokens = tokens;
    e.entropy = s.require("entropy", "entropy", SessionTensor::Type::F32, {layers, tokens}).toF32("entropy/entropy");
    e.layerMean = s.require("entropy", "layer_mean", SessionTensor::Type::F32, {layers}).toF32("entropy/layer_mean");
    return e;
}

}  // namespace attnscope
