#include "arch/llama2c.h"

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "attnscope/error.h"
#include "io/llama2c_header.h"

namespace attnscope::core {

Llama2cModel loadLlama2c(const std::string& path, at::Device device, at::ScalarType dtype) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(ErrorKind::NotFound, path + ": cannot open file");
    std::error_code ec;
    const uint64_t fileSize = std::filesystem::file_size(path, ec);
    uint8_t raw[io::kLlama2cHeaderBytes];
    if (ec || !in.read(reinterpret_cast<char*>(raw), sizeof raw))
        fail(ErrorKind::BadInput, path + ": too short for a llama2.c header");
    const io::Llama2cHeader hdr = io::parseLlama2cHeader(raw, fileSize, path);
    const int64_t dim = hdr.dim, hidden = hdr.hidden, L = hdr.nLayers, H = hdr.nHeads,
                  Hkv = hdr.nKvHeads, V = hdr.vocab, seq = hdr.seqLen;
    const int64_t hd = hdr.headDim(), kvDim = hdr.kvDim();
    const bool shared = hdr.sharedClassifier;
    auto bad = [&](const std::string& what) { fail(ErrorKind::BadInput, path + ": not a llama2.c checkpoint (" + what + ")"); };

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
