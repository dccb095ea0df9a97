#include "tokenizer/normalizers.h"

#include <cstdlib>
#include <vector>

#include <utf8proc.h>

#include "tokenizer/pattern.h"
#include "tokenizer/utf8.h"

namespace attnscope::tok {

namespace {

class SequenceNormalizer : public Normalizer {
public:
    std::vector<std::unique_ptr<Normalizer>> parts;
    void normalize(std::string& s) const override {
        for (const auto& p : parts) p->normalize(s);
    }
};

class PrependNormalizer : public Normalizer {
public:
    std::string prefix;
    void normalize(std::string& s) const override {
        if (!s.empty()) s.insert(0, prefix);  // HF prepends only to non-empty text
    }
};

class ReplaceNormalizer : public Normalizer {
public:
    ReplaceNormalizer(const JsonCtx& ctx, const json& spec)
        : pattern(ctx, field(ctx, spec, "pattern")), content(stringField(ctx, spec, "content")) {}
    Pattern pattern;
    std::string content;
    void normalize(std::string& s) const override { s = pattern.replaceAll(s, content); }
};

class UnicodeNormalizer : public Normalizer {
public:
    explicit UnicodeNormalizer(int options) : options(options) {}
    int options;
    void normalize(std::string& s) const override {
        bool ascii = true;
        for (unsigned char c : s) ascii = ascii && c < 0x80;
        if (ascii) return;  // every normal form leaves ASCII alone
        utf8proc_uint8_t* out = nullptr;
        const utf8proc_ssize_t n =
            utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                         utf8proc_ssize_t(s.size()), &out, utf8proc_option_t(options));
        if (n < 0) {
            std::free(out);
            fail(ErrorKind::BadInput, std::string("Unicode normalization failed: ") +
                                          utf8proc_errmsg(n));
        }
        s.assign(reinterpret_cast<const char*>(out), size_t(n));
        std::free(out);
    }
};

class LowercaseNormalizer : public Normalizer {
public:
    void normalize(std::string& s) const override {
        std::string out;
        out.reserve(s.size());
        for (size_t i = 0; i < s.size();) {
            const char32_t cp = nextCodePoint(s, i);
            if (cp == 0x130) {  // Rust's full mapping: İ -> i + combining dot above
                out += "i\xCC\x87";
                continue;
            }
            appendUtf8(out, char32_t(utf8proc_tolower(utf8proc_int32_t(cp))));
        }
        s = std::move(out);
    }
};

class StripNormalizer : public Normalizer {
public:
    bool left = true, right = true;
    void normalize(std::string& s) const override {
        const size_t b = left ? skipWhitespace(s, 0, s.size()) : 0;
        const size_t e = right ? skipWhitespaceBack(s, b, s.size()) : s.size();
        s = s.substr(b, e - b);
    }
};

}  // namespace

std::unique_ptr<Normalizer> makeNormalizer(const JsonCtx& ctx, const json& spec) {
    if (spec.is_null()) return nullptr;
    const std::string type = typeOf(ctx, spec, "normalizer");
    if (type == "Sequence") return makeSequence<SequenceNormalizer>(ctx, spec, "normalizers", makeNormalizer);
    if (type == "Prepend") {
        auto n = std::make_unique<PrependNormalizer>();
        n->prefix = stringField(ctx, spec, "prepend");
        return n;
    }
    if (type == "Replace") return std::make_unique<ReplaceNormalizer>(ctx, spec);
    if (type == "NFC") return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (type == "NFKC")
        return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    if (type == "NFD") return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    if (type == "NFKD")
        return std::make_unique<UnicodeNormalizer>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
    if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
    if (type == "Strip") {
        auto n = std::make_unique<StripNormalizer>();
        n->left = boolOr(ctx, spec, "strip_left", true);
        n->right = boolOr(ctx, spec, "strip_right", true);
        return n;
    }
    unsupported(ctx, "normalizer type \"" + type + "\" is not supported");
}

}  // namespace attnscope::tok
