#include "tokenizer/json_fields.h"

#include <fstream>

#include "tokenizer/utf8.h"

namespace attnscope::tok {

void badInput(const JsonCtx& ctx, const std::string& what) {
    fail(ErrorKind::BadInput, ctx.file + ": " + what);
}

void unsupported(const JsonCtx& ctx, const std::string& what) {
    fail(ErrorKind::Unsupported, ctx.file + ": " + what);
}

bool hasField(const json& obj, const char* key) {
    if (!obj.is_object()) return false;
    const auto it = obj.find(key);
    return it != obj.end() && !it->is_null();
}

const json& field(const JsonCtx& ctx, const json& obj, const char* key) {
    if (!obj.is_object()) badInput(ctx, std::string("expected an object holding \"") + key + "\"");
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) badInput(ctx, std::string("missing \"") + key + "\"");
    return *it;
}

std::string stringField(const JsonCtx& ctx, const json& obj, const char* key) {
    const json& v = field(ctx, obj, key);
    if (!v.is_string()) badInput(ctx, std::string("\"") + key + "\" must be a string");
    return v.get<std::string>();
}

std::string stringOr(const JsonCtx& ctx, const json& obj, const char* key, const std::string& def) {
    return hasField(obj, key) ? stringField(ctx, obj, key) : def;
}

bool boolOr(const JsonCtx& ctx, const json& obj, const char* key, bool def) {
    if (!hasField(obj, key)) return def;
    const json& v = obj.at(key);
    if (!v.is_boolean()) badInput(ctx, std::string("\"") + key + "\" must be true or false");
    return v.get<bool>();
}

int64_t intOr(const JsonCtx& ctx, const json& obj, const char* key, int64_t def) {
    if (!hasField(obj, key)) return def;
    const json& v = obj.at(key);
    if (!v.is_number_integer()) badInput(ctx, std::string("\"") + key + "\" must be an integer");
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
        badInput(ctx, std::string("\"") + key + "\" is out of range");
    return v.get<int64_t>();
}

const json& arrayField(const JsonCtx& ctx, const json& obj, const char* key) {
    const json& v = field(ctx, obj, key);
    if (!v.is_array()) badInput(ctx, std::string("\"") + key + "\" must be an array");
    return v;
}

std::string typeOf(const JsonCtx& ctx, const json& obj, const char* what) {
    if (!obj.is_object()) badInput(ctx, std::string(what) + " must be an object");
    return stringOr(ctx, obj, "type", "");
}

JsonCtx nestedCtx(const JsonCtx& ctx, const std::string& what) {
    if (ctx.depth >= kMaxNesting) badInput(ctx, what + " nested too deeply");
    return {ctx.file, ctx.depth + 1};
}

char32_t singleChar(const JsonCtx& ctx, const std::string& s, const char* key) {
    if (s.empty() || !isValidUtf8(s)) badInput(ctx, std::string("\"") + key + "\" must be one character");
    size_t pos = 0;
    const char32_t cp = nextCodePoint(s, pos);
    if (pos != s.size()) badInput(ctx, std::string("\"") + key + "\" must be one character");
    return cp;
}

std::string readFileLimited(const std::string& path, size_t maxBytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(ErrorKind::NotFound, path + ": cannot open");
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size < 0) fail(ErrorKind::BadInput, path + ": cannot determine the size");
    if (uint64_t(size) > maxBytes)
        fail(ErrorKind::BadInput, path + ": file too large (" + std::to_string(size) + " bytes)");
    in.seekg(0, std::ios::beg);
    std::string data(size_t(size), '\0');
    if (size > 0 && !in.read(data.data(), size)) fail(ErrorKind::BadInput, path + ": read failed");
    return data;
}

json parseJson(const std::string& text, const std::string& path) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        fail(ErrorKind::BadInput, path + ": malformed JSON (" + e.what() + ")");
    }
}

}  // namespace attnscope::tok
