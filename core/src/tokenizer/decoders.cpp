#include "tokenizer/decoders.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/pattern.h"
#include "tokenizer/utf8.h"

namespace attnscope::tok {

namespace {

class SequenceDecoder : public Decoder {
public:
    std::vector<std::unique_ptr<Decoder>> parts;
    void decode(std::vector<std::string>& tokens) const override {
        for (const auto& p : parts) p->decode(tokens);
    }
};

class ByteLevelDecoder : public Decoder {
public:
    void decode(std::vector<std::string>& tokens) const override {
        std::string bytes;
        for (const std::string& t : tokens) {
            // A token with any character outside the byte alphabet is kept as it is
            // (HF does the same, e.g. for added tokens written in plain text).
            std::string mapped;
            bool ok = isValidUtf8(t);
            for (size_t i = 0; ok && i < t.size();) {
                const int b = charToByte(nextCodePoint(t, i));
                if (b < 0) ok = false;
                else mapped.push_back(char(b));
            }
            bytes += ok ? mapped : t;
        }
        tokens.assign(1, std::move(bytes));
    }
};

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

class ByteFallbackDecoder : public Decoder {
public:
    void decode(std::vector<std::string>& tokens) const override {
        for (std::string& t : tokens) {
            if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
                const int hi = hexDigit(t[3]), lo = hexDigit(t[4]);
                if (hi >= 0 && lo >= 0) t.assign(1, char(hi * 16 + lo));
            }
        }
    }
};

class ReplaceDecoder : public Decoder {
public:
    ReplaceDecoder(const JsonCtx& ctx, const json& spec)
        : pattern(ctx, field(ctx, spec, "pattern")), content(stringField(ctx, spec, "content")) {}
    Pattern pattern;
    std::string content;
    void decode(std::vector<std::string>& tokens) const override {
        for (std::string& t : tokens) {
            // A regex needs valid UTF-8; a lone byte token cannot match a text pattern anyway.
            if (isValidUtf8(t)) t = pattern.replaceAll(t, content);
        }
    }
};

class FuseDecoder : public Decoder {
public:
    void decode(std::vector<std::string>& tokens) const override {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, std::move(all));
    }
};

class StripDecoder : public Decoder {
public:
    std::string content;  // one character
    size_t start = 0, stop = 0;
    void decode(std::vector<std::string>& tokens) const override {
        for (std::string& t : tokens) {
            size_t b = 0, e = t.size();
            for (size_t k = 0; k < start && b + content.size() <= e &&
                               t.compare(b, content.size(), content) == 0; ++k)
                b += content.size();
            for (size_t k = 0; k < stop && e >= b + content.size() &&
                               t.compare(e - content.size(), content.size(), content) == 0; ++k)
                e -= content.size();
            t = t.substr(b, e - b);
        }
    }
};

class MetaspaceDecoder : public Decoder {
public:
    std::string replacement;
    bool prepend = true;  // prepend_scheme != never
    void decode(std::vector<std::string>& tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i) {
            std::string out;
            const std::string& t = tokens[i];
            for (size_t p = 0; p < t.size();) {
                if (t.compare(p, replacement.size(), replacement) == 0) {
                    // HF drops the replacement characters of the first token entirely.
                    if (!(i == 0 && prepend)) out.push_back(' ');
                    p += replacement.size();
                } else {
                    out.push_back(t[p++]);
                }
            }
            tokens[i] = std::move(out);
        }
    }
};

class BpeSuffixDecoder : public Decoder {
public:
    std::string suffix;
    void decode(std::vector<std::string>& tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i) {
            std::string& t = tokens[i];
            std::string out;
            for (size_t p = 0; p < t.size();) {
                if (!suffix.empty() && t.compare(p, suffix.size(), suffix) == 0) {
                    if (i + 1 != tokens.size()) out.push_back(' ');
                    p += suffix.size();
                } else {
                    out.push_back(t[p++]);
                }
            }
            t = std::move(out);
        }
    }
};

}  // namespace

std::unique_ptr<Decoder> makeDecoder(const JsonCtx& ctx, const json& spec) {
    if (spec.is_null()) return nullptr;
    const std::string type = typeOf(ctx, spec, "decoder");
    if (type == "Sequence") return makeSequence<SequenceDecoder>(ctx, spec, "decoders", makeDecoder);
    if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
    if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
    if (type == "Replace") return std::make_unique<ReplaceDecoder>(ctx, spec);
    if (type == "Fuse") return std::make_unique<FuseDecoder>();
    if (type == "Strip") {
        auto d = std::make_unique<StripDecoder>();
        d->content = stringField(ctx, spec, "content");
        singleChar(ctx, d->content, "content");
        const int64_t start = intOr(ctx, spec, "start", 0), stop = intOr(ctx, spec, "stop", 0);
        if (start < 0 || stop < 0 || start > 1 << 20 || stop > 1 << 20)
            badInput(ctx, "Strip decoder start/stop out of range");
        d->start = size_t(start);
        d->stop = size_t(stop);
        return d;
    }
    if (type == "Metaspace") {
        auto d = std::make_unique<MetaspaceDecoder>();
        d->replacement = stringOr(ctx, spec, "replacement", "\xE2\x96\x81");
        singleChar(ctx, d->replacement, "replacement");
        if (hasField(spec, "prepend_scheme"))
            d->prepend = stringField(ctx, spec, "prepend_scheme") != "never";
        else
            d->prepend = boolOr(ctx, spec, "add_prefix_space", true);
        return d;
    }
    if (type == "BPEDecoder") {
        auto d = std::make_unique<BpeSuffixDecoder>();
        d->suffix = stringOr(ctx, spec, "suffix", "</w>");
        return d;
    }
    unsupported(ctx, "decoder type \"" + type + "\" is not supported");
}

}  // namespace attnscope::tok
