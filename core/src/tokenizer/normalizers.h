// tokenizer.json normalizers: Sequence, Prepend, Replace, NFC/NFKC/NFD/NFKD, Lowercase,
// Strip. They work on valid UTF-8 and need no offsets (we report ids only).
#pragma once
#include <memory>
#include <string>

#include "tokenizer/json_fields.h"

namespace attnscope::tok {

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual void normalize(std::string& s) const = 0;
};

// Null JSON gives nullptr. Unknown types throw Unsupported, malformed ones BadInput.
std::unique_ptr<Normalizer> makeNormalizer(const JsonCtx& ctx, const json& spec);

}  // namespace attnscope::tok
