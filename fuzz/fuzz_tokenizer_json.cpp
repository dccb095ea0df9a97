// tokenizer.json loading: the input is the file; when it loads, a few texts (ASCII,
// multi-byte UTF-8, invalid UTF-8, NUL, special-token look-alikes) are encoded and decoded
// and every piece is read.
#include "attnscope/tokenizer.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = attnscope::fuzz::writeScratch("tokenizer.json", data, size);
    attnscope::fuzz::expectOnlyErrors([&] {
        auto tok = attnscope::Tokenizer::fromHuggingFace(path, "");
        static const std::string kTexts[] = {
            "Hello world", " héllo\u00a0wörld 日本語 🙂", std::string("a\0b\xff\xfe c", 8),
            "<s></s><|endoftext|>  \n\t x", ""};
        for (const auto& text : kTexts) {
            for (bool special : {false, true}) {
                const auto ids = tok->encode(text, special);
                (void)tok->decode(ids);
            }
        }
        const int32_t n = std::min<int32_t>(tok->vocabSize(), 1 << 16);
        for (int32_t id = -1; id <= n; ++id) {
            (void)tok->piece(id);
            (void)tok->isSpecial(id);
        }
        (void)tok->decode({-5, tok->vocabSize(), tok->bosId(), tok->eosId()});
    });
    return 0;
}
