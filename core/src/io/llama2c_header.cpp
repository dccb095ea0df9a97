#include "io/llama2c_header.h"

#include <cstring>

#include "attnscope/error.h"

namespace attnscope::io {

Llama2cHeader parseLlama2cHeader(const uint8_t* header, uint64_t fileSize, const std::string& path) {
    int32_t h[7];
    std::memcpy(h, header, sizeof h);
    auto bad = [&](const std::string& what) {
        fail(ErrorKind::BadInput, path + ": not a llama2.c checkpoint (" + what + ")");
    };
    Llama2cHeader r;
    r.dim = h[0]; r.hidden = h[1]; r.nLayers = h[2]; r.nHeads = h[3]; r.nKvHeads = h[4];
    r.seqLen = h[6];
    r.sharedClassifier = h[5] > 0;
    r.vocab = r.sharedClassifier ? h[5] : -int64_t(h[5]);
    if (r.dim <= 0 || r.dim > 65536 || r.hidden <= 0 || r.hidden > 1 << 20 || r.nLayers <= 0 ||
        r.nLayers > 1024 || r.nHeads <= 0 || r.nHeads > 1024 || r.nKvHeads <= 0 ||
        r.nKvHeads > r.nHeads || r.nHeads % r.nKvHeads || r.dim % r.nHeads || r.vocab <= 0 ||
        r.vocab > 1 << 22 || r.seqLen <= 0 || r.seqLen > 1 << 24)
        bad("implausible header " + std::to_string(r.dim) + "/" + std::to_string(r.hidden) + "/" +
            std::to_string(r.nLayers) + "/" + std::to_string(r.nHeads) + "/" +
            std::to_string(r.nKvHeads) + "/" + std::to_string(h[5]) + "/" + std::to_string(r.seqLen));
    // Count every float the header promises (bounded above: no overflow), then compare with
    // the file size before anything is allocated.
    const int64_t V = r.vocab, dim = r.dim, L = r.nLayers, kv = r.kvDim(), hid = r.hidden;
    const int64_t floats = V * dim + L * dim + L * dim * dim + 2 * L * kv * dim + L * dim * dim +
                           L * dim + 3 * L * hid * dim + dim + r.seqLen * r.headDim() +
                           (r.sharedClassifier ? 0 : V * dim);
    const uint64_t expected = kLlama2cHeaderBytes + uint64_t(floats) * 4;
    if (fileSize != expected)
        bad("file has " + std::to_string(fileSize) + " bytes, header implies " + std::to_string(expected));
    return r;
}

}  // namespace attnscope::io
