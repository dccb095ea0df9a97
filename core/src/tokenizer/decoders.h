// tokenizer.json decoders: ByteLevel, ByteFallback, Replace, Fuse, Strip, Metaspace,
// BPEDecoder and Sequence. They map the list of token strings to the output bytes.
// Unlike HF, invalid UTF-8 produced by byte tokens is kept as raw bytes (no U+FFFD),
// so that callers can decode a stream token by token and join the bytes.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace attnscope::tok {

class Decoder {
public:
    virtual ~Decoder() = default;
    virtual void decode(std::vector<std::string>& tokens) const = 0;
};

// Null JSON gives nullptr. Unknown types throw Unsupported, malformed ones BadInput.
std::unique_ptr<Decoder> makeDecoder(const JsonCtx& ctx, const json& spec);

}  // namespace attnscope::tok
