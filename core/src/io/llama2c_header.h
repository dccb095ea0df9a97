// llama2.c checkpoint header (legacy version-0 export): 7 int32 followed by fp32 arrays.
// Torch-free so the header checks can be fuzzed and tested without libtorch.
#pragma once
#include <cstdint>
#include <string>

namespace attnscope::io {

struct Llama2cHeader {
    int64_t dim = 0, hidden = 0, nLayers = 0, nHeads = 0, nKvHeads = 0, vocab = 0, seqLen = 0;
    bool sharedClassifier = false;  // positive vocab field: lm head = token embedding
    int64_t headDim() const { return dim / nHeads; }
    int64_t kvDim() const { return headDim() * nKvHeads; }
};

inline constexpr size_t kLlama2cHeaderBytes = 7 * sizeof(int32_t);

// `header` holds kLlama2cHeaderBytes little-endian bytes. Throws Error(BadInput) naming
// `path` when the numbers are implausible or `fileSize` differs from what they imply.
Llama2cHeader parseLlama2cHeader(const uint8_t* header, uint64_t fileSize, const std::string& path);

}  // namespace attnscope::io
