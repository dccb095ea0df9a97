// The model facade: open a model file or directory, run prompts with a trace, generate.
// Torch stays behind the pimpl; this header is safe to include from Qt code.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attnscope/job.h"
#include "attnscope/model_shape.h"
#include "attnscope/trace.h"
#include "attnscope/views.h"

namespace attnscope {

class Tokenizer;

enum class Device { CPU, CUDA };
enum class DType { F32, BF16, F16 };

const char* deviceName(Device d);
const char* dtypeName(DType t);
Device parseDevice(const std::string& s);  // throws Error(BadInput)
DType parseDType(const std::string& s);    // throws Error(BadInput)
bool cudaAvailable();

struct ModelInfo : ModelShape {
    std::string path;
    std::string arch;        // registry name: llama, mistral, qwen2, qwen3, gpt2, gpt_neox, llama2c
    std::string storedDtype; // dtype of the weights on disk
    Device device = Device::CPU;
    DType dtype = DType::F32;
    int slidingWindow = 0;  // 0 = full causal attention
    int64_t nParams = 0;
};

struct OpenOptions {
    std::string path;           // HF directory, .safetensors file (config.json beside it), llama2.c .bin
    std::string tokenizerPath;  // llama2.c tokenizer.bin or a tokenizer.json override; optional
    Device device = Device::CPU;
    DType dtype = DType::F32;
};

// A Llama-family model with random weights (N(0, 0.02), unit norms): for benchmarks and
// tests of shapes no shipped model has.
struct RandomModelSpec : ModelShape {
    // 2 layers, 4 heads (2 KV heads) of 16 dims, d_model 64, d_ff 128, 256 tokens, 1024 positions.
    RandomModelSpec() : ModelShape{2, 4, 2, 16, 64, 128, 256, 1024} {}

    double ropeTheta = 10000.0;
    bool tiedEmbeddings = true;
    uint64_t seed = 0;
    Device device = Device::CPU;
    DType dtype = DType::F32;
};

struct RunOptions {
    TracePolicy trace;
    JobControl job;  // stop between layers; progress: fraction done, from the running thread
};

// temperature 0 = greedy; otherwise softmax(logits / temperature) restricted to the
// smallest set of tokens whose probability reaches topP (nucleus sampling).
struct SamplingOptions {
    double temperature = 0.0;
    double topP = 1.0;
    uint64_t seed = 0;
};

struct Generation {
    std::vector<int32_t> tokens;  // generated ids only
    bool stoppedAtEos = false;
};

class Model {
public:
    // Throws attnscope::Error with a message naming the file and what is wrong.
    static std::unique_ptr<Model> open(const OpenOptions& options);
    static std::unique_ptr<Model> random(const RandomModelSpec& spec);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const ModelInfo& info() const;
    const Tokenizer* tokenizer() const;  // null when the model came without one

    // Tokenize with the model's own tokenizer; addBos follows the tokenizer config.
    std::vector<int32_t> tokenize(const std::string& text, bool addSpecial) const;

    // One forward pass over the whole prompt, keeping a trace. Throws Error(BadInput)
    // when the prompt is empty or longer than the context, Error(Cancelled) on stop.
    std::unique_ptr<Trace> run(const std::vector<int32_t>& ids, const RunOptions& options = {});

    // Decoding with a KV cache: greedy unless `sampling` says otherwise. Progress: the share of
    // maxNewTokens generated; a stop throws Error(Cancelled).
    Generation generate(const std::vector<int32_t>& prompt, int maxNewTokens, bool stopAtEos,
                        const JobControl& job = {}, const SamplingOptions& sampling = {});

    // Weight access for the weight analyses (Weibull fits, ...). Safetensors models list
    // their files' 2-D weight matrices and embeddings under the files' names; llama2.c and
    // random models get synthesized names ("layers.0.attention.wq.weight", and
    // "model.layers.0.self_attn.q_proj.weight" for random Llama models).
    struct WeightTensorInfo {
        std::string name;
        int layer = -1;         // -1 outside the blocks (embed, lm_head)
        std::string component;  // q k v o gate up down qkv (fused) embed lm_head
        std::vector<int64_t> shape;  // as stored: GPT-2 Conv1D is [in, out]
    };
    // Ordered embed, layers 0.. (q k v qkv o gate up down), lm_head.
    std::vector<WeightTensorInfo> weightTensors() const;
    // A float32 copy of one tensor as stored in the file (whole fused QKV, Conv1D layout);
    // throws Error(NotFound) for unknown names. Thread-safe.
    Matrix2D weightMatrix(const std::string& name) const;

    struct Impl;

private:
    friend struct ModelAccess;  // core-internal analyses (core/src/model/model_access.h)
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

}  // namespace attnscope
