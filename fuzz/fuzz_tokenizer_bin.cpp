// llama2.c tokenizer.bin: the first 4 input bytes choose the vocabulary size the model
// header would give, the rest is the file; loaded tokenizers encode and decode a few texts.
#include <cstring>

#include "attnscope/tokenizer.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4) return 0;
    int32_t vocab = 0;
    std::memcpy(&vocab, data, 4);
    const std::string path = attnscope::fuzz::writeScratch("tokenizer.bin", data + 4, size - 4);
    attnscope::fuzz::expectOnlyErrors([&] {
        auto tok = attnscope::Tokenizer::fromLlama2c(path, vocab);
        static const std::string kTexts[] = {"Once upon a time", std::string("\xff\0\xc3(", 4),
                                             " 日本 🙂 ", ""};
        for (const auto& text : kTexts) (void)tok->decode(tok->encode(text, true));
        for (int32_t id = -1; id <= tok->vocabSize(); ++id) (void)tok->piece(id);
        (void)tok->decode({-1, 0, 1, 2, 3, 258, tok->vocabSize()});
    });
    return 0;
}
