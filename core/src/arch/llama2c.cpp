#include "arch/llama2c.h"

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "attnscope/error.h"

namespace attnscope::core {

Llama2cModel loadLlama2c(const std::string& path, at::Device device, at::ScalarType dtype) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(ErrorKind::NotFound, path + ": cannot open file");
    std::error_code ec;
    const uint64_t fileSize = std::filesystem::file_size(path, ec);
    int32_t h[7] = {};
    if (ec || !in.read(reinterpret_cast<char*>(h), sizeof h))
        fail(ErrorKind::BadInput, path + ": too short for a llama2.c header");
    const int64_t dim = h[0], hidden = h[1], L = h[2], H = h[3], Hkv = h[4], seq = h[6];
    const bool shared = h[5] > 0;
    const int64_t V = shared ? h[5] : -int64_t(h[5]);
    auto bad = [&](const std::string& what) { fail(ErrorKind::BadInput, path + ": not a llama2.c checkpoint (" + what + ")"); };
    if (dim <= 0 || dim > 65536 || hidden <= 0 || hidden > 1 << 20 || L <= 0 || L > 1024 ||
        H <= 0 || H > 1024 || Hkv <= 0 || Hkv > H || H % Hkv || dim % H || V <= 0 ||
        V > 1 << 22 || seq <= 0 || seq > 1 << 24)
        bad("implausible header " + std::to_string(dim) + "/" + std::to_string(hidden) + "/" +
            std::to_string(L) + "/" + std::to_string(H) + "/" + std::to_string(Hkv) + "/" +
            std::to_string(h[5]) + "/" + std::to_string(seq));
    const int64_t hd = dim / H, kvDim = hd * Hkv;
    // Count every float the header promises, then compare with the file size before
    // allocating anything.
    const int64_t floats = V * dim + L * dim + L * dim * dim + 2 * L * kvDim * dim + L * dim * dim +
                           L * dim + 3 * L * hidden * dim + dim + seq * hd + (shared ? 0 : V * dim);
    const uint64_t expected = sizeof h + uint64_t(floats) * 4;
    if (fileSize != expected)
        bad("file has " + std::to_string(fileSize) + " bytes, header implies " + std::to_string(expected));

    auto read = [&](std::vector<int64_t> shape) {
        at::Tensor t = at::empty(shape, at::kFloat);
        if (!in.read(reinterpret_cast<char*>(t.data_ptr<float>()), std::streamsize(t.numel() * 4)))
            bad("truncated data");
        return t;
    };
    ModelConfig c;
    c.arch = "llama2c";
    c.nLayers = int(L); c.nHeads = int(H); c.nKvHeads = int(Hkv); c.headDim = int(hd);
    c.dModel = int(dim); c.dFF = int(hidden); c.vocabSize = int(V); c.contextLength = int(seq);
    c.norm = NormKind::RMS; c.normEps = 1e-5;
    c.mlp = MlpKind::GatedSilu; c.act = Activation::Silu;
    c.rope.style = RopeStyle::Interleaved; c.rope.theta = 10000.0; c.rope.rotaryDim = int(hd);
    c.tiedEmbeddings = shared;
    c.bosId = 1; c.eosId = 2;
    c.validate(path);

    at::Tensor emb = read({V, dim}), rmsAtt = read({L, dim}), wq = read({L, dim, dim}),
               wk = read({L, kvDim, dim}), wv = read({L, kvDim, dim}), wo = read({L, dim, dim}),
               rmsFfn = read({L, dim}), w1 = read({L, hidden, dim}), w2 = read({L, dim, hidden}),
               w3 = read({L, hidden, dim}), rmsFinal = read({dim});
    read({seq, hd});  // legacy RoPE tables (real and imaginary halves): recomputed instead
    at::Tensor cls = shared ? emb : read({V, dim});

    auto cv = [&](const at::Tensor& t) { return t.to(device, dtype).contiguous(); };
    Weights w;
    w.tokEmb = cv(emb);
    w.lmHead = shared ? w.tokEmb : cv(cls);
    w.finalNormW = cv(rmsFinal);
    for (int64_t l = 0; l < L; ++l) {
        LayerWeights x;
        x.attnNormW = cv(rmsAtt[l]);
        x.wq = cv(wq[l]); x.wk = cv(wk[l]); x.wv = cv(wv[l]); x.wo = cv(wo[l]);
        x.mlpNormW = cv(rmsFfn[l]);
        x.wGate = cv(w1[l]); x.wDown = cv(w2[l]); x.wUp = cv(w3[l]);
        w.layers.push_back(std::move(x));
    }
    return {std::move(c), std::move(w)};
}

}  // namespace attnscope::core
