// Model::open and friends: find the files, pick the architecture, load the weights,
// and turn torch failures into typed errors.
#include "attnscope/model.h"

#include <c10/util/Exception.h>

#include <filesystem>
#include <fstream>

#include "arch/arch_registry.h"
#include "arch/llama2c.h"
#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "io/safetensors.h"
#include "model/model_impl.h"
#include "runtime/blas_warmup.h"
#include "trace/trace_impl.h"

namespace fs = std::filesystem;

namespace attnscope {

using namespace core;

bool cudaAvailable() {
#ifdef ATTNSCOPE_WITH_CUDA
    return at::hasCUDA();
#else
    return at::hasCUDA();
#endif
}

namespace {

std::string readConfigFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) fail(ErrorKind::NotFound, p.string() + ": cannot open file");
    std::error_code ec;
    if (fs::file_size(p, ec) > (64u << 20)) fail(ErrorKind::BadInput, p.string() + ": file is too large for a config");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::unique_ptr<Tokenizer> tokenizerBeside(fs::path dir, const std::string& overridePath) {
    // A checkpoint of a series (root/checkpoints/step-N) shares the root's tokenizer.
    if (overridePath.empty() && !fs::exists(dir / "tokenizer.json") &&
        fs::exists(dir.parent_path().parent_path() / "series.json"))
        dir = dir.parent_path().parent_path();
    fs::path tj = overridePath.empty() ? dir / "tokenizer.json" : fs::path(overridePath);
    if (!fs::exists(tj)) return nullptr;
    fs::path tc = dir / "tokenizer_config.json";
    return Tokenizer::fromHuggingFace(tj.string(), fs::exists(tc) ? tc.string() : std::string());
}

Model::Impl openSafetensorsModel(const fs::path& dir, std::unique_ptr<io::WeightSet> ws,
                                 const OpenOptions& o, at::Device dev, at::ScalarType dt) {
    const fs::path cfgPath = dir / "config.json";
    if (!fs::exists(cfgPath))
        fail(ErrorKind::NotFound, cfgPath.string() + ": missing (a Hugging Face model needs config.json beside its weights)");
    const ModelConfig cfg = configFromText(readConfigFile(cfgPath), cfgPath.string());
    const ArchEntry* arch = findArch(cfg.arch);
    if (!arch) fail(ErrorKind::Unsupported, cfgPath.string() + ": no weight loader for '" + cfg.arch + "'");
    Weights w = arch->load(TensorLoader(*ws, dev, dt), cfg);
    Model::Impl impl{Decoder(cfg, std::move(w), dev, dt), {}, nullptr};
    const io::TensorEntry* first = nullptr;
    for (const auto& n : ws->names()) { first = ws->find(n); break; }
    impl.info.storedDtype = first ? io::stDTypeName(first->dtype) : "?";
    const std::string tokOverride = o.tokenizerPath;
    impl.tokenizer = tokenizerBeside(dir, tokOverride);
    impl.files = std::move(ws);  // kept mapped for Model::weightMatrix
    return impl;
}

Model::Impl openAny(const OpenOptions& o, at::Device dev, at::ScalarType dt) {
    const fs::path p(o.path);
    if (o.path.empty()) fail(ErrorKind::BadInput, "no model path given");
    if (!fs::exists(p)) fail(ErrorKind::NotFound, o.path + ": no such file or directory");
    if (fs::is_directory(p)) {
        const bool sharded = fs::exists(p / "model.safetensors.index.json");
        if (!sharded && !fs::exists(p / "model.safetensors")) {
            for (const char* pickle : {"pytorch_model.bin", "pytorch_model.bin.index.json"})
                if (fs::exists(p / pickle))
                    fail(ErrorKind::Unsupported, (p / pickle).string() + ": PyTorch pickle checkpoints can execute code when loaded and are not supported; convert the model to safetensors");
            fail(ErrorKind::NotFound, o.path + ": no model.safetensors or model.safetensors.index.json in this directory");
        }
        return openSafetensorsModel(p, io::WeightSet::openDirectory(p.string()), o, dev, dt);
    }
    switch (io::sniffModelFile(p.string())) {
    case io::FileKind::Safetensors:
        return openSafetensorsModel(p.parent_path(), io::WeightSet::openFile(p.string()), o, dev, dt);
    case io::FileKind::SafetensorsIndex:
        return openSafetensorsModel(p.parent_path(), io::WeightSet::openDirectory(p.parent_path().string()), o, dev, dt);
    case io::FileKind::PyTorchZip:
    case io::FileKind::PyTorchPickle:
        fail(ErrorKind::Unsupported, o.path + ": PyTorch pickle checkpoints can execute code when loaded and are not supported; convert the model to safetensors");
    case io::FileKind::GGUF:
        fail(ErrorKind::Unsupported, o.path + ": GGUF files are not supported yet");
    default: break;
    }
    // Anything else is tried as a llama2.c checkpoint; its loader validates the header
    // against the file size, so random files are rejected cleanly.
    Llama2cModel m = loadLlama2c(o.path, dev, dt);
    Model::Impl impl{Decoder(std::move(m.config), std::move(m.weights), dev, dt), {}, nullptr};
    impl.info.storedDtype = "F32";
    fs::path tok = o.tokenizerPath.empty() ? p.parent_path() / "tokenizer.bin" : fs::path(o.tokenizerPath);
    if (!o.tokenizerPath.empty() || fs::exists(tok)) {
        if (tok.extension() == ".json")
            impl.tokenizer = Tokenizer::fromHuggingFace(tok.string(), "");
        else
            impl.tokenizer = Tokenizer::fromLlama2c(tok.string(), impl.decoder.config().vocabSize);
    }
    return impl;
}

}  // namespace

void fillInfo(Model::Impl& impl, const std::string& path, Device device, DType dtype) {
    const ModelConfig& c = impl.decoder.config();
    ModelInfo& info = impl.info;
    info.path = path;
    info.arch = c.arch;
    info.device = device;
    info.dtype = dtype;
    static_cast<ModelShape&>(info) = c;
    info.slidingWindow = c.slidingWindow;
    info.nParams = impl.decoder.weights().parameterCount();
}

std::unique_ptr<Model> Model::open(const OpenOptions& o) {
    if (o.device == Device::CUDA && !cudaAvailable())
        fail(ErrorKind::Unsupported, "CUDA was requested but this build or machine has no CUDA device");
    const at::Device dev = o.device == Device::CUDA ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    const at::ScalarType dt = o.dtype == DType::BF16 ? at::kBFloat16 : o.dtype == DType::F16 ? at::kHalf : at::kFloat;
    guardTorch([] { core::warmUpHostBlas(); });  // before the weights take the memory
    auto impl = guardTorch([&] { return std::make_unique<Impl>(openAny(o, dev, dt)); });
    fillInfo(*impl, o.path, o.device, o.dtype);
    const ModelConfig& c = impl->decoder.config();
    if (impl->tokenizer && impl->tokenizer->vocabSize() > c.vocabSize)
        fail(ErrorKind::BadInput, "the tokenizer has " + std::to_string(impl->tokenizer->vocabSize()) +
                                      " tokens but the model only " + std::to_string(c.vocabSize));
    return std::unique_ptr<Model>(new Model(std::move(impl)));
}

}  // namespace attnscope
