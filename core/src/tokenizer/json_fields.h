// Checked access to tokenizer.json fields: every wrong type or missing key becomes an
// attnscope::Error naming the file and the key, never a nlohmann exception or a crash.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "attnscope/error.h"

namespace attnscope::tok {

using json = nlohmann::json;

// Where a value came from, for messages ("tokenizer.json: normalizer.normalizers[1]").
struct JsonCtx {
    std::string file;
    int depth = 0;  // nesting of Sequence components; bounded against hostile files
};

[[noreturn]] void badInput(const JsonCtx& ctx, const std::string& what);
[[noreturn]] void unsupported(const JsonCtx& ctx, const std::string& what);

bool hasField(const json& obj, const char* key);  // present and not null
const json& field(const JsonCtx& ctx, const json& obj, const char* key);
std::string stringField(const JsonCtx& ctx, const json& obj, const char* key);
std::string stringOr(const JsonCtx& ctx, const json& obj, const char* key, const std::string& def);
bool boolOr(const JsonCtx& ctx, const json& obj, const char* key, bool def);
int64_t intOr(const JsonCtx& ctx, const json& obj, const char* key, int64_t def);
const json& arrayField(const JsonCtx& ctx, const json& obj, const char* key);
// The "type" of a component object ("" when absent).
std::string typeOf(const JsonCtx& ctx, const json& obj, const char* what);
// Exactly one Unicode scalar value, as Metaspace's "replacement" and Strip's "content".
char32_t singleChar(const JsonCtx& ctx, const std::string& s, const char* key);

// Reads a whole file of at most maxBytes.
std::string readFileLimited(const std::string& path, size_t maxBytes);
// Parses JSON text; syntax errors become BadInput naming path.
json parseJson(const std::string& text, const std::string& path);

constexpr int kMaxNesting = 32;

// The context one Sequence level down: nesting deeper than kMaxNesting (a hostile file) is
// BadInput "<what> nested too deeply".
JsonCtx nestedCtx(const JsonCtx& ctx, const std::string& what);

// A "Sequence" component of one family (normalizers, pre-tokenizers, decoders): Seq's parts
// are make(inner, entry) for every entry of spec[key], one level down; null parts are skipped.
template <class Seq, class Make>
std::unique_ptr<Seq> makeSequence(const JsonCtx& ctx, const json& spec, const char* key, Make make) {
    const JsonCtx inner = nestedCtx(ctx, key);
    auto seq = std::make_unique<Seq>();
    for (const json& entry : arrayField(ctx, spec, key))
        if (auto part = make(inner, entry)) seq->parts.push_back(std::move(part));
    return seq;
}

}  // namespace attnscope::tok
