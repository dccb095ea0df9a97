// Tokenizers: Hugging Face tokenizer.json (byte-level BPE and SentencePiece-style BPE)
// and llama2.c's tokenizer.bin. Qt-free and torch-free.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Encodes text. Special/added tokens written in the text are recognised as such.
    // addSpecial: add what the tokenizer's post-processor / config adds (BOS for
    // Llama-style models); false gives the raw ids.
    virtual std::vector<int32_t> encode(std::string_view text, bool addSpecial) const = 0;
    // Decodes ids to text (byte-fallback and byte-level pieces become raw bytes).
    virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
    // The piece of one id as stored in the vocabulary, for display (may be "▁the",
    // "Ġthe", "<0x0A>"). Out-of-range ids give "".
    virtual std::string piece(int32_t id) const = 0;
    virtual int32_t vocabSize() const = 0;
    virtual int32_t bosId() const = 0;  // -1 when none
    virtual int32_t eosId() const = 0;  // -1 when none
    virtual bool isSpecial(int32_t id) const = 0;

    // tokenizer.json; tokenizerConfigPath (may be empty) supplies bos/eos names and
    // add_bos_token. Throws attnscope::Error on malformed input.
    static std::unique_ptr<Tokenizer> fromHuggingFace(const std::string& tokenizerJsonPath,
                                                      const std::string& tokenizerConfigPath);
    // llama2.c tokenizer.bin with the given vocabulary size (from the model header).
    static std::unique_ptr<Tokenizer> fromLlama2c(const std::string& path, int32_t vocabSize);
};

}  // namespace attnscope
