// Everything the generic decoder needs to know about one model, filled from config.json
// (or a llama2.c header) by the architecture's registry entry.
#pragma once
#include <string>

#include "attnscope/model_shape.h"

namespace attnscope::core {

enum class NormKind { RMS, Layer };
enum class MlpKind { GatedSilu, Plain };           // SwiGLU: down(silu(gate x) * up x); plain: down(act(up x))
enum class Activation { Silu, Gelu, GeluTanh, Relu };
enum class RopeStyle { None, HalfSplit, Interleaved };  // HF rotate_half vs llama2.c pairs
enum class RopeScaling { None, Linear, Llama3 };

struct RopeConfig {
    RopeStyle style = RopeStyle::HalfSplit;
    double theta = 10000.0;
    int rotaryDim = 0;  // dims of each head that rotate (partial rotary); the rest pass through
    RopeScaling scaling = RopeScaling::None;
    double factor = 1.0;
    double lowFreqFactor = 1.0;
    double highFreqFactor = 4.0;
    double originalContext = 8192.0;
};

struct ModelConfig : ModelShape {
    std::string arch;  // registry name
    NormKind norm = NormKind::RMS;
    double normEps = 1e-5;
    MlpKind mlp = MlpKind::GatedSilu;
    Activation act = Activation::Silu;
    RopeConfig rope;
    bool qkNorm = false;            // per-head RMSNorm of q and k before RoPE (Qwen3)
    bool parallelResidual = false;  // x + attn(ln1 x) + mlp(ln2 x) (GPT-NeoX)
    bool tiedEmbeddings = false;
    bool learnedPositions = false;  // GPT-2
    int slidingWindow = 0;          // 0: full causal
    double attnScale = 0.0;         // logit scale; 0 means 1/sqrt(headDim)
    int bosId = -1;
    int eosId = -1;

    double logitScale() const;
    int groupSize() const { return nHeads / nKvHeads; }
    // Throws Error(BadInput) naming `source` when the numbers are inconsistent.
    void validate(const std::string& source) const;
};

}  // namespace attnscope::core
