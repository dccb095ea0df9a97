#include "tokenizer/post_processors.h"

#include <sstream>

namespace attnscope::tok {

namespace {

int32_t checkedId(const JsonCtx& ctx, const json& v, int64_t vocabSize, const char* what) {
    if (!v.is_number_integer()) badInput(ctx, std::string(what) + ": id must be an integer");
    const int64_t id = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT32_MAX)
                           ? -1
                           : v.get<int64_t>();
    if (id < 0 || id >= vocabSize) badInput(ctx, std::string(what) + ": id " + v.dump() + " out of range");
    return int32_t(id);
}

std::vector<int32_t> specialIds(const JsonCtx& ctx, const json& specials, const std::string& name,
                                int64_t vocabSize) {
    if (!specials.is_object() || !specials.contains(name))
        badInput(ctx, "post_processor names unknown special token \"" + name + "\"");
    std::vector<int32_t> ids;
    for (const json& v : arrayField(ctx, specials.at(name), "ids"))
        ids.push_back(checkedId(ctx, v, vocabSize, "post_processor special token"));
    return ids;
}

void templateProcessing(const JsonCtx& ctx, const json& spec, int64_t vocabSize, SpecialTemplate& t) {
    const json empty = json::object();
    const json& specials = hasField(spec, "special_tokens") ? spec.at("special_tokens") : empty;
    const json& single = field(ctx, spec, "single");
    std::vector<int32_t> before, after;
    bool seenA = false;
    const auto addSpecial = [&](const std::string& name) {
        auto ids = specialIds(ctx, specials, name, vocabSize);
        (seenA ? after : before).insert((seenA ? after : before).end(), ids.begin(), ids.end());
    };
    if (single.is_string()) {
        // Textual form: "<s> $A:0 </s>"; "$..." is a sequence, the rest special tokens.
        std::istringstream in(single.get<std::string>());
        std::string word;
        while (in >> word) {
            if (word[0] == '$') seenA = true;
            else addSpecial(word.substr(0, word.find(':')));
        }
    } else if (single.is_array()) {
        for (const json& item : single) {
            if (hasField(item, "Sequence")) seenA = true;
            else if (hasField(item, "SpecialToken"))
                addSpecial(stringField(ctx, item.at("SpecialToken"), "id"));
            else badInput(ctx, "post_processor template item must be Sequence or SpecialToken");
        }
    } else {
        badInput(ctx, "post_processor \"single\" must be a string or an array");
    }
    t.present = true;
    t.before.insert(t.before.begin(), before.begin(), before.end());
    t.after.insert(t.after.end(), after.begin(), after.end());
}

void clsSep(const JsonCtx& ctx, const json& spec, int64_t vocabSize, SpecialTemplate& t) {
    const auto idOf = [&](const char* key) {
        const json& p = field(ctx, spec, key);
        if (!p.is_array() || p.size() != 2) badInput(ctx, std::string("\"") + key + "\" must be [token, id]");
        return checkedId(ctx, p[1], vocabSize, key);
    };
    t.present = true;
    t.before.insert(t.before.begin(), idOf("cls"));
    t.after.push_back(idOf("sep"));
}

void apply(const JsonCtx& ctx, const json& spec, int64_t vocabSize, SpecialTemplate& t) {
    if (spec.is_null()) return;
    const std::string type = typeOf(ctx, spec, "post_processor");
    if (type == "Sequence") {
        const JsonCtx inner = nestedCtx(ctx, "processors");
        for (const json& p : arrayField(ctx, spec, "processors")) apply(inner, p, vocabSize, t);
    } else if (type == "TemplateProcessing") {
        templateProcessing(ctx, spec, vocabSize, t);
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
        clsSep(ctx, spec, vocabSize, t);
    } else if (type != "ByteLevel") {
        unsupported(ctx, "post_processor type \"" + type + "\" is not supported");
    }
}

}  // namespace

SpecialTemplate parsePostProcessor(const JsonCtx& ctx, const json& spec, int64_t vocabSize) {
    SpecialTemplate t;
    apply(ctx, spec, vocabSize, t);
    return t;
}

}  // namespace attnscope::tok
