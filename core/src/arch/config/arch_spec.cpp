#include "arch/config/arch_spec.h"

#include "attnscope/error.h"

namespace attnscope::core {

// Defined in the family files (*_config.cpp). Adding a family: one spec here, one loader
// in arch/arch_registry.cpp.
extern const ArchSpec kLlamaSpec;
extern const ArchSpec kMistralSpec;
extern const ArchSpec kQwen2Spec;
extern const ArchSpec kQwen3Spec;
extern const ArchSpec kGpt2Spec;
extern const ArchSpec kGptNeoXSpec;

namespace {
// An explicit list rather than self-registering statics, which a static library drops.
const ArchSpec* const kBuiltins[] = {&kLlamaSpec, &kMistralSpec, &kQwen2Spec,
                                     &kQwen3Spec, &kGpt2Spec,    &kGptNeoXSpec};
}  // namespace

const ArchSpec* findArchSpec(std::string_view name) {
    for (const ArchSpec* e : kBuiltins)
        if (name == e->name) return e;
    return nullptr;
}

std::vector<std::string> archNames() {
    std::vector<std::string> out;
    for (const ArchSpec* e : kBuiltins) out.emplace_back(e->name);
    out.emplace_back("llama2c");  // llama2.c .bin checkpoints, loaded by arch/llama2c.cpp
    return out;
}

ModelConfig configFromJson(const nlohmann::json& raw, const std::string& source) {
    if (!raw.is_object()) fail(ErrorKind::BadInput, source + ": config must be a JSON object");
    const ConfigJson json(raw, source);
    const std::string type = json.string("model_type", "");
    const ArchSpec* arch = findArchSpec(type);
    if (!arch) {
        std::string names;
        for (const auto& n : archNames()) names += (names.empty() ? "" : ", ") + n;
        fail(ErrorKind::Unsupported, source + ": unknown architecture '" + type + "' (supported: " + names + ")");
    }
    ModelConfig cfg;
    arch->configure(json, cfg);
    cfg.validate(source);
    return cfg;
}

ModelConfig configFromText(std::string_view text, const std::string& source) {
    nlohmann::json raw;
    try {
        raw = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        fail(ErrorKind::BadInput, source + ": malformed JSON (" + e.what() + ")");
    }
    return configFromJson(raw, source);
}

void configureCommonDims(const ConfigJson& j, ModelConfig& c) {
    c.nLayers = j.integer({"num_hidden_layers", "n_layer"});
    c.nHeads = j.integer({"num_attention_heads", "n_head"});
    c.nKvHeads = j.integerOr({"num_key_value_heads"}, c.nHeads);
    c.dModel = j.integer({"hidden_size", "n_embd"});
    if (c.nHeads <= 0) fail(ErrorKind::BadInput, j.source() + ": num_attention_heads must be > 0");
    c.headDim = j.integerOr({"head_dim"}, c.dModel / c.nHeads);
    c.dFF = j.integerOr({"intermediate_size", "n_inner"}, 4 * c.dModel);
    c.vocabSize = j.integer({"vocab_size"});
    c.contextLength = j.integerOr({"max_position_embeddings", "n_positions", "n_ctx"}, 2048);
    c.normEps = j.number({"rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon"}, 1e-5);
    c.tiedEmbeddings = j.boolean("tie_word_embeddings", false);
    c.bosId = j.raw().contains("bos_token_id") && j.raw()["bos_token_id"].is_number_integer()
                  ? j.raw()["bos_token_id"].get<int>() : -1;
    c.eosId = j.raw().contains("eos_token_id") && j.raw()["eos_token_id"].is_number_integer()
                  ? j.raw()["eos_token_id"].get<int>() : -1;
}

Activation activationOf(const ConfigJson& j, const char* key, const char* fallback) {
    static constexpr std::pair<const char*, Activation> kNames[] = {
        {"silu", Activation::Silu},          {"swish", Activation::Silu},
        {"gelu", Activation::Gelu},          {"gelu_new", Activation::GeluTanh},
        {"gelu_fast", Activation::GeluTanh}, {"gelu_pytorch_tanh", Activation::GeluTanh},
        {"relu", Activation::Relu}};
    const std::string a = j.string(key, fallback);
    for (const auto& [name, act] : kNames)
        if (a == name) return act;
    fail(ErrorKind::Unsupported, j.source() + ": " + key + " '" + a + "' is not supported");
}

void configurePlainMha(const ConfigJson& j, ModelConfig& c, const char* actKey, const char* actFallback) {
    configureCommonDims(j, c);
    c.nKvHeads = c.nHeads;
    c.headDim = c.dModel / c.nHeads;
    c.norm = NormKind::Layer;
    c.mlp = MlpKind::Plain;
    c.act = activationOf(j, actKey, actFallback);
}

void configureRope(const ConfigJson& j, ModelConfig& c) {
    const nlohmann::json p = j.ropeParameters();
    auto num = [&](const char* k, double fallback) {
        if (!p.contains(k) || p[k].is_null()) return fallback;
        if (!p[k].is_number())
            fail(ErrorKind::BadInput, j.source() + ": rope parameter \"" + k + "\" must be a number");
        return p[k].get<double>();
    };
    c.rope.theta = num("rope_theta", num("rotary_emb_base", 10000.0));
    const double partial = num("partial_rotary_factor", num("rotary_pct", 1.0));
    c.rope.rotaryDim = int(c.headDim * partial);
    c.rope.rotaryDim -= c.rope.rotaryDim % 2;
    std::string type = "default";
    for (const char* k : {"rope_type", "type"})
        if (p.contains(k) && p[k].is_string()) { type = p[k].get<std::string>(); break; }
    if (type == "default") {
        c.rope.scaling = RopeScaling::None;
    } else if (type == "linear") {
        c.rope.scaling = RopeScaling::Linear;
        c.rope.factor = num("factor", 1.0);
    } else if (type == "llama3") {
        c.rope.scaling = RopeScaling::Llama3;
        c.rope.factor = num("factor", 8.0);
        c.rope.lowFreqFactor = num("low_freq_factor", 1.0);
        c.rope.highFreqFactor = num("high_freq_factor", 4.0);
        c.rope.originalContext = num("original_max_position_embeddings", 8192.0);
    } else {
        fail(ErrorKind::Unsupported, j.source() + ": rope type '" + type +
                                         "' is not supported (default, linear, llama3 are)");
    }
}

}  // namespace attnscope::core
