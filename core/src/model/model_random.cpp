// Random-weight Llama-family models, built directly on the target device.
#include <ATen/ATen.h>

#include "model/model_impl.h"
#include "runtime/blas_warmup.h"

namespace attnscope {

using namespace core;

std::unique_ptr<Model> Model::random(const RandomModelSpec& s) {
    if (s.device == Device::CUDA && !cudaAvailable())
        fail(ErrorKind::Unsupported, "CUDA was requested but this build or machine has no CUDA device");
    ModelConfig c;
    c.arch = "llama";
    static_cast<ModelShape&>(c) = s;
    c.rope.theta = s.ropeTheta;
    c.rope.rotaryDim = s.headDim;
    c.tiedEmbeddings = s.tiedEmbeddings;
    c.validate("random model spec");
    const at::Device dev = s.device == Device::CUDA ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    const at::ScalarType dt = s.dtype == DType::BF16 ? at::kBFloat16 : s.dtype == DType::F16 ? at::kHalf : at::kFloat;
    return guardTorch([&] {
        warmUpHostBlas();  // see blas_warmup.h
        at::manual_seed(s.seed);
        auto opts = at::TensorOptions().device(dev).dtype(dt);
        auto w = [&](int64_t out, int64_t in) { return at::randn({out, in}, opts).mul_(0.02); };
        auto ones = [&](int64_t n) { return at::ones({n}, opts); };
        const int64_t D = c.dModel, F = c.dFF, qd = int64_t(c.nHeads) * c.headDim, kvd = int64_t(c.nKvHeads) * c.headDim;
        Weights W;
        W.tokEmb = w(c.vocabSize, D);
        W.lmHead = c.tiedEmbeddings ? W.tokEmb : w(c.vocabSize, D);
        W.finalNormW = ones(D);
        for (int l = 0; l < c.nLayers; ++l) {
            LayerWeights L;
            L.attnNormW = ones(D); L.mlpNormW = ones(D);
            L.wq = w(qd, D); L.wk = w(kvd, D); L.wv = w(kvd, D); L.wo = w(D, qd);
            L.wGate = w(F, D); L.wUp = w(F, D); L.wDown = w(D, F);
            W.layers.push_back(std::move(L));
        }
        auto impl = std::make_unique<Impl>(Impl{Decoder(c, std::move(W), dev, dt), {}, nullptr});
        fillInfo(*impl, "(random)", s.device, s.dtype);
        impl->info.storedDtype = dtypeName(s.dtype);
        return std::unique_ptr<Model>(new Model(std::move(impl)));
    });
}

}  // namespace attnscope
