#include "arch/config/model_config.h"

#include <cmath>

#include "attnscope/error.h"

namespace attnscope::core {

double ModelConfig::logitScale() const {
    return attnScale > 0 ? attnScale : 1.0 / std::sqrt(double(headDim));
}

void ModelConfig::validate(const std::string& source) const {
    auto bad = [&](const std::string& what) {
        fail(ErrorKind::BadInput, source + ": " + what);
    };
    // Bounds keep a hostile config from asking for absurd allocations.
    if (nLayers <= 0 || nLayers > 1024) bad("num_hidden_layers must be in 1..1024");
    if (nHeads <= 0 || nHeads > 1024) bad("num_attention_heads must be in 1..1024");
    if (nKvHeads <= 0 || nKvHeads > nHeads) bad("num_key_value_heads must be in 1..num_attention_heads");
    if (nHeads % nKvHeads != 0) bad("num_attention_heads must be a multiple of num_key_value_heads");
    if (headDim <= 0 || headDim > 4096) bad("head_dim must be in 1..4096");
    if (dModel <= 0 || dModel > 65536) bad("hidden_size must be in 1..65536");
    if (dFF <= 0 || dFF > 1 << 20) bad("intermediate_size must be in 1..1048576");
    if (vocabSize <= 0 || vocabSize > 1 << 22) bad("vocab_size must be in 1..4194304");
    if (contextLength <= 0 || contextLength > 1 << 24) bad("context length must be in 1..16777216");
    if (rope.style != RopeStyle::None && (rope.rotaryDim <= 0 || rope.rotaryDim > headDim ||
                                          rope.rotaryDim % 2 != 0))
        bad("rotary dimension must be even and in 1..head_dim");
    if (!(normEps > 0 && normEps < 1)) bad("norm epsilon must be in (0, 1)");
    if (rope.style != RopeStyle::None && !(rope.theta > 1)) bad("rope_theta must be > 1");
    if (rope.scaling != RopeScaling::None && !(rope.factor > 0)) bad("rope scaling factor must be > 0");
    if (slidingWindow < 0) bad("sliding_window must be >= 0");
}

}  // namespace attnscope::core
