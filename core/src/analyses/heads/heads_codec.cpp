// Session section of the head grid's scores (docs/session-format.md).
#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "session/codec_json.h"

namespace attnscope {

using Type = SessionTensor::Type;

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
    const codec::JsonReader p(s.params, where);
    HeadScoresSection h;
    h.score = p.str("score", h.score);
    h.tokens = p.integer("tokens", 0, kSessionMaxTokens);
    h.sampledRows = p.integer("sampled_rows", 0, kSessionMaxTokens, h.sampledRows);
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
