// What tokenizer.json's post_processor adds around a single sequence when special
// tokens are requested: TemplateProcessing, RobertaProcessing, BertProcessing,
// ByteLevel (adds nothing) and Sequence of those.
#pragma once
#include <cstdint>
#include <vector>

#include "tokenizer/json_fields.h"

namespace attnscope::tok {

struct SpecialTemplate {
    bool present = false;  // a processor that places special tokens was found
    std::vector<int32_t> before, after;
};

// vocabSize bounds the ids the processor may name.
SpecialTemplate parsePostProcessor(const JsonCtx& ctx, const json& spec, int64_t vocabSize);

}  // namespace attnscope::tok
