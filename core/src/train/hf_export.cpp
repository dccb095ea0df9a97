#include "train/hf_export.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>

#include "io/atomic_file.h"
#include "io/safetensors.h"

namespace attnscope::core {
namespace {

io::NamedBuffer buffer(const std::string& name, const at::Tensor& t, at::ScalarType dtype) {
    at::Tensor c = t.detach().to(at::kCPU, dtype).contiguous();
    io::NamedBuffer b{name, dtype == at::kBFloat16 ? io::StDType::BF16 : dtype == at::kHalf ? io::StDType::F16 : io::StDType::F32,
                      std::vector<int64_t>(c.sizes().begin(), c.sizes().end()), std::vector<uint8_t>(c.nbytes())};
    std::memcpy(b.bytes.data(), c.data_ptr(), c.nbytes());
    return b;
}

}  // namespace

void exportHfLlama(const ModelConfig& c, const Weights& w, const std::string& dir, at::ScalarType dtype) {
    std::filesystem::create_directories(dir);
    std::vector<io::NamedBuffer> t;
    t.push_back(buffer("model.embed_tokens.weight", w.tokEmb, dtype));
    t.push_back(buffer("model.norm.weight", w.finalNormW, dtype));
    if (!c.tiedEmbeddings) t.push_back(buffer("lm_head.weight", w.lmHead, dtype));
    for (int l = 0; l < c.nLayers; ++l) {
        const LayerWeights& L = w.layers[size_t(l)];
        const std::string p = "model.layers." + std::to_string(l) + ".";
        t.push_back(buffer(p + "input_layernorm.weight", L.attnNormW, dtype));
        t.push_back(buffer(p + "post_attention_layernorm.weight", L.mlpNormW, dtype));
        t.push_back(buffer(p + "self_attn.q_proj.weight", L.wq, dtype));
        t.push_back(buffer(p + "self_attn.k_proj.weight", L.wk, dtype));
        t.push_back(buffer(p + "self_attn.v_proj.weight", L.wv, dtype));
        t.push_back(buffer(p + "self_attn.o_proj.weight", L.wo, dtype));
        t.push_back(buffer(p + "mlp.gate_proj.weight", L.wGate, dtype));
        t.push_back(buffer(p + "mlp.up_proj.weight", L.wUp, dtype));
        t.push_back(buffer(p + "mlp.down_proj.weight", L.wDown, dtype));
    }
    io::writeSafetensors(dir + "/model.safetensors", t, {{"format", "pt"}});
    const char* dtypeName = dtype == at::kBFloat16 ? "bfloat16" : dtype == at::kHalf ? "float16" : "float32";
    nlohmann::json cfg = {
        {"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", c.dModel},
        {"intermediate_size", c.dFF}, {"num_hidden_layers", c.nLayers}, {"num_attention_heads", c.nHeads},
        {"num_key_value_heads", c.nKvHeads}, {"head_dim", c.headDim}, {"vocab_size", c.vocabSize},
        {"max_position_embeddings", c.contextLength}, {"rms_norm_eps", c.normEps}, {"rope_theta", c.rope.theta},
        {"hidden_act", "silu"}, {"attention_bias", false}, {"mlp_bias", false}, {"tie_word_embeddings", c.tiedEmbeddings},
        {"bos_token_id", c.bosId}, {"eos_token_id", c.eosId}, {"torch_dtype", dtypeName}, {"initializer_range", 0.02}};
    io::writeFileAtomic(dir + "/config.json", cfg.dump(2) + "\n");
    nlohmann::json gen = {{"bos_token_id", c.bosId}, {"eos_token_id", c.eosId}, {"do_sample", false}};
    io::writeFileAtomic(dir + "/generation_config.json", gen.dump(2) + "\n");
}

}  // namespace attnscope::core
