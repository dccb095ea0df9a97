// Tokenizers against independent references: ids produced by Hugging Face tokenizers
// (tests/data/tokenizer_golden.json) for real tokenizer.json files, and small files
// written here whose expected ids are derived by hand from the documented rules.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdio>
#include <cstring>
#include <limits>
#include <functional>
#include <string>
#include <vector>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "test_paths.h"

using attnscope::Tokenizer;
using Ids = std::vector<int32_t>;

namespace {

QString show(const Ids& ids) {
    QStringList parts;
    for (int32_t i : ids) parts << QString::number(i);
    return "[" + parts.join(",") + "]";
}

// Runs f and reports whether it threw attnscope::Error (anything else fails the test).
bool throwsError(const std::function<void()>& f, std::string* message = nullptr) {
    try {
        f();
    } catch (const attnscope::Error& e) {
        if (message) *message = e.what();
        return true;
    }
    return false;
}

struct TokenRecord {
    float score;
    std::string piece;
};

// A llama2.c tokenizer.bin: max_token_length, then (score, length, bytes) per token.
QByteArray llama2cFile(const std::vector<TokenRecord>& tokens) {
    int32_t maxLen = 1;
    for (const auto& t : tokens) maxLen = std::max(maxLen, int32_t(t.piece.size()));
    QByteArray out;
    const auto i32 = [&](int32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
    i32(maxLen);
    for (const auto& t : tokens) {
        out.append(reinterpret_cast<const char*>(&t.score), 4);
        i32(int32_t(t.piece.size()));
        out.append(t.piece.data(), qsizetype(t.piece.size()));
    }
    return out;
}

}  // namespace

class TstTokenizer : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    int m_goldenChecks = 0;

    QString write(const QString& name, const QByteArray& data) {
        const QString path = m_tmp.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
        f.write(data);
        return path;
    }
    std::unique_ptr<Tokenizer> hfFromJson(const QString& name, const QByteArray& json,
                                          const QString& config = QString()) {
        const QString cfgPath = config.isEmpty() ? QString() : write(name + "_config.json", config.toUtf8());
        return Tokenizer::fromHuggingFace(write(name + ".json", json).toStdString(), cfgPath.toStdString());
    }
    void checkGolden(const QString& name);

    // The hand-made llama2.c vocabulary: 0 <unk>, 1 BOS, 2 EOS, 3..258 <0x00>..<0xFF>, then
    // 259 " ", 260 "a", 261 "b", 262 "c", 263 "ab"(-5), 264 "bc"(-1), 265 " a"(-3),
    // 266 "abc"(-2), 267 "ü", 268 " ab"(-4), 269 "aa"(-0.5). Characters score -1000.
    std::vector<TokenRecord> smallLlama2cVocab() {
        std::vector<TokenRecord> v{{0, "<unk>"}, {0, "\n<s>\n"}, {0, "\n</s>\n"}};
        for (int b = 0; b < 256; ++b) {
            char name[8];
            std::snprintf(name, sizeof name, "<0x%02X>", b);
            v.push_back({0, name});
        }
        v.insert(v.end(), {{-1000, " "}, {-1000, "a"}, {-1000, "b"}, {-1000, "c"}, {-5, "ab"},
                           {-1, "bc"}, {-3, " a"}, {-2, "abc"}, {-1000, "\xC3\xBC"}, {-4, " ab"},
                           {-0.5f, "aa"}});
        return v;
    }

private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    // ---- Hugging Face golden ids -------------------------------------------------------
    void goldenLlama3() { checkGolden("llama3"); }
    void goldenQwen3() { checkGolden("qwen3"); }
    void goldenLlama2() { checkGolden("llama2"); }

    void specialIdsFromConfig() {
        // bos/eos as named in each tokenizer_config.json, looked up in the vocabularies.
        struct Case { const char* name; int32_t bos, eos; };
        for (const Case& c : {Case{"llama3", 128000, 128001}, Case{"qwen3", -1, 151645},
                              Case{"llama2", 1, 2}}) {
            const QString dir = testpaths::npmTokenizerDir(c.name);
            if (dir.isEmpty()) QSKIP("npm tokenizers absent: run scripts/fetch-test-data.sh BUILD_DIR");
            auto tok = Tokenizer::fromHuggingFace((dir + "/tokenizer.json").toStdString(),
                                                  (dir + "/tokenizer_config.json").toStdString());
            QCOMPARE(tok->bosId(), c.bos);
            QCOMPARE(tok->eosId(), c.eos);
            if (c.eos >= 0) QVERIFY(tok->isSpecial(c.eos));
        }
        const QString dir = testpaths::npmTokenizerDir("llama3");
        auto tok = Tokenizer::fromHuggingFace((dir + "/tokenizer.json").toStdString(), "");
        QCOMPARE(tok->vocabSize(), 128256);  // 128000 BPE tokens + 256 added tokens
        QCOMPARE(tok->piece(128000), std::string("<|begin_of_text|>"));
        QCOMPARE(tok->piece(-1), std::string());
        QCOMPARE(tok->piece(1 << 30), std::string());
    }

    void largeTextIsFast() {
        // 1 MB of mixed text; a quadratic pass over the text would take minutes.
        std::string text;
        const std::string chunk =
            "The quick brown fox, naïve café 你好 😀 jumps over 12345 lazy dogs.\n\t  x[i] += 2; ";
        while (text.size() < (1u << 20)) text += chunk;
        for (const char* name : {"llama3", "qwen3", "llama2"}) {
            const QString dir = testpaths::npmTokenizerDir(name);
            if (dir.isEmpty()) QSKIP("npm tokenizers absent: run scripts/fetch-test-data.sh BUILD_DIR");
            auto tok = Tokenizer::fromHuggingFace((dir + "/tokenizer.json").toStdString(), "");
            QElapsedTimer t;
            t.start();
            const Ids ids = tok->encode(text, false);
            const qint64 ms = t.elapsed();
            qInfo("%s: 1 MiB -> %zu ids in %lld ms", name, ids.size(), ms);
            QVERIFY(ids.size() > 100000);
            QVERIFY2(ms < 1000, qPrintable(QString("%1 took %2 ms").arg(name).arg(ms)));
            QCOMPARE(tok->decode(ids), text);  // each of these tokenizers is lossless here
        }
    }

    void invalidUtf8AndNulOnRealTokenizers() {
        for (const char* name : {"llama3", "qwen3", "llama2"}) {
            const QString dir = testpaths::npmTokenizerDir(name);
            if (dir.isEmpty()) QSKIP("npm tokenizers absent: run scripts/fetch-test-data.sh BUILD_DIR");
            auto tok = Tokenizer::fromHuggingFace((dir + "/tokenizer.json").toStdString(), "");
            const std::string bad("a\xFF\xFE" "b\0c\xC3", 7);
            const std::string replaced("a\xEF\xBF\xBD\xEF\xBF\xBD" "b\0c\xEF\xBF\xBD", 13);
            // Invalid bytes behave as U+FFFD (one per maximal invalid subsequence); NUL is
            // an ordinary character.
            QCOMPARE(tok->encode(bad, true), tok->encode(replaced, true));
            QCOMPARE(tok->decode(tok->encode(replaced, false)), replaced);
            for (int b = 0; b < 256; ++b) (void)tok->encode(std::string(3, char(b)), true);
            QVERIFY(tok->decode({-5, 1 << 30, 0}).size() < 64);  // bad ids are skipped
        }
    }

    // ---- Hand-made tokenizer.json files ------------------------------------------------
    void bpeMergeOrderAndIgnoreMerges() {
        // Merges by rank: "b c" (rank 0) then "a b" (rank 1); "abc" is a token but no merge
        // makes it from (a, bc). So BPE gives a,bc; with ignore_merges the whole word,
        // being a token, is emitted as is (what Llama-3 relies on).
        const QByteArray base = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2,
            "ab": 3, "bc": 4, "abc": 5}, "merges": ["b c", ["a", "b"]], "ignore_merges": %1}})";
        auto plain = hfFromJson("merge_plain", QByteArray(base).replace("%1", "false"));
        QCOMPARE(plain->encode("abc", false), (Ids{0, 4}));
        QCOMPARE(plain->encode("abab", false), (Ids{3, 3}));
        QCOMPARE(plain->encode("", true), Ids{});
        auto ignoring = hfFromJson("merge_ignore", QByteArray(base).replace("%1", "true"));
        QCOMPARE(ignoring->encode("abc", false), Ids{5});
        QCOMPARE(ignoring->encode("abcb", false), (Ids{0, 4, 1}));  // not a token: merged normally
        // A word longer than the chunking threshold (2048 symbols): "abcc" x 600 with
        // merges a+b, ab+c: each "abc" becomes 5 and the lone c stays 2.
        const QByteArray chain = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2,
            "ab": 3, "abc": 5}, "merges": ["a b", "ab c"]}})";
        auto chained = hfFromJson("merge_chain", chain);
        std::string longWord;
        Ids expected;
        for (int i = 0; i < 600; ++i) {
            longWord += "abcc";
            expected.insert(expected.end(), {5, 2});
        }
        QCOMPARE(chained->encode(longWord, false), expected);
        QCOMPARE(plain->bosId(), -1);
        QCOMPARE(plain->decode({0, 4}), std::string("a bc"));  // no decoder: joined by spaces
    }

    void unknownAndByteFallback() {
        // x and y are not in the vocabulary: fused into one <unk> when fuse_unk, else one
        // <unk> per character; with byte_fallback the <0xNN> tokens are used instead.
        const QByteArray base = R"({"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": %1,
            "byte_fallback": %2, "vocab": {"<unk>": 0, "a": 1, "b": 2, "<0x78>": 3, "<0x79>": 4},
            "merges": []}, "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"},
            {"type": "Fuse"}]}})";
        auto fused = hfFromJson("unk_fused", QByteArray(base).replace("%1", "true").replace("%2", "false"));
        QCOMPARE(fused->encode("axyb", false), (Ids{1, 0, 2}));
        auto single = hfFromJson("unk_single", QByteArray(base).replace("%1", "false").replace("%2", "false"));
        QCOMPARE(single->encode("axyb", false), (Ids{1, 0, 0, 2}));
        auto bytes = hfFromJson("unk_bytes", QByteArray(base).replace("%1", "true").replace("%2", "true"));
        QCOMPARE(bytes->encode("axyb", false), (Ids{1, 3, 4, 2}));
        QCOMPARE(bytes->encode("azb", false), (Ids{1, 0, 2}));  // no <0x7A>: falls back to unk
        QCOMPARE(bytes->decode({1, 3, 4, 2}), std::string("axyb"));
    }

    void addedTokensStripAndSingleWord() {
        // " " is a token, so without lstrip "a <x>b" would give a, " ", <x>, b.
        const QByteArray json = R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, " ": 2,
            "c": 3, "ab": 4}, "merges": ["a b"]}, "added_tokens": [
            {"id": 10, "content": "<x>", "special": true, "lstrip": true, "rstrip": false,
             "single_word": false, "normalized": false},
            {"id": 11, "content": "<y>", "special": true, "lstrip": false, "rstrip": true,
             "single_word": false, "normalized": false},
            {"id": 12, "content": "ab", "special": false, "lstrip": false, "rstrip": false,
             "single_word": true, "normalized": false},
            {"id": 13, "content": "<x>>", "special": false, "lstrip": false, "rstrip": false,
             "single_word": false, "normalized": false}]})";
        auto tok = hfFromJson("added", json);
        QCOMPARE(tok->encode("a <x>b", false), (Ids{0, 10, 1}));
        QCOMPARE(tok->encode("a<y>  b", false), (Ids{0, 11, 1}));
        QCOMPARE(tok->encode("a <y>", false), (Ids{0, 2, 11}));
        // single_word: "ab" alone is the added token; inside "abc" it is ordinary text (BPE
        // then merges a+b into the model's token 4).
        QCOMPARE(tok->encode("ab abc", false), (Ids{12, 2, 4, 3}));
        // Longest match among tokens starting at the same place.
        QCOMPARE(tok->encode("<x>>a", false), (Ids{13, 0}));
        QVERIFY(tok->isSpecial(10));
        QVERIFY(!tok->isSpecial(12));
        QVERIFY(!tok->isSpecial(0));
        QCOMPARE(tok->vocabSize(), 14);
    }

    void metaspaceAndTemplate() {
        // Legacy Metaspace (add_prefix_space): "a b" -> "▁a▁b" -> pieces ▁a, ▁b; the
        // template wraps them in <s> ... </s>; the Metaspace decoder drops the first ▁.
        const QByteArray json = R"({"model": {"type": "BPE", "vocab": {"<s>": 0, "</s>": 1,
            "▁": 2, "a": 3, "b": 4, "▁a": 5, "▁b": 6}, "merges": ["▁ a", "▁ b"]},
            "added_tokens": [{"id": 0, "content": "<s>", "special": true},
                             {"id": 1, "content": "</s>", "special": true}],
            "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "add_prefix_space": true},
            "post_processor": {"type": "TemplateProcessing", "single": "<s> $A </s>",
              "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                                 "</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
            "decoder": {"type": "Metaspace", "replacement": "▁", "add_prefix_space": true}})";
        auto tok = hfFromJson("metaspace", json);
        QCOMPARE(tok->encode("a b", false), (Ids{5, 6}));
        QCOMPARE(tok->encode("a b", true), (Ids{0, 5, 6, 1}));
        QCOMPARE(tok->encode("a  b", false), (Ids{5, 2, 6}));  // MergedWithNext split
        QCOMPARE(tok->bosId(), 0);
        QCOMPARE(tok->eosId(), 1);
        QCOMPARE(tok->decode({5, 6}), std::string("a b"));

        // Without a post-processor, tokenizer_config.json's add_bos_token decides.
        const QByteArray noTemplate = R"({"model": {"type": "BPE", "vocab": {"<s>": 0, "a": 1},
            "merges": []}, "added_tokens": [{"id": 0, "content": "<s>", "special": true}]})";
        auto cfg = hfFromJson("cfg_bos", noTemplate, R"({"add_bos_token": true,
            "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": null})");
        QCOMPARE(cfg->encode("aa", true), (Ids{0, 1, 1}));
        QCOMPARE(cfg->encode("aa", false), (Ids{1, 1}));
        QCOMPARE(cfg->eosId(), -1);
    }

    void normalizersAndInvalidUtf8() {
        // Lowercase + NFC: "A" + U+0301 (combining acute) -> "á" (U+00E1), a single token;
        // invalid bytes become U+FFFD, which is a token here; NUL is an ordinary character.
        const QByteArray json = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"\xC3\xA1\": 1,"
            " \"\\uFFFD\": 2, \"\\u0000\": 3, \"b\": 4}, \"merges\": []}, \"normalizer\": {\"type\":"
            " \"Sequence\", \"normalizers\": [{\"type\": \"Lowercase\"}, {\"type\": \"NFC\"}]}}";
        auto tok = hfFromJson("norm", json);
        QCOMPARE(tok->encode("A\xCC\x81" "b", false), (Ids{1, 4}));
        QCOMPARE(tok->encode(std::string("a\xFF" "b\0a\xE2\x82", 7), false), (Ids{0, 2, 4, 3, 0, 2}));
    }

    void badHuggingFaceFiles() {
        const std::vector<std::pair<const char*, QByteArray>> cases = {
            {"syntax", "{\"model\": {"},
            {"toplevel", "[1, 2]"},
            {"nomodel", "{\"normalizer\": null}"},
            {"unigram", R"({"model": {"type": "Unigram", "vocab": [ ["a", 0.0] ]}})"},
            {"merge_unknown", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},
                 "merges": ["a c"]}})"},
            {"merge_result_unknown", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1},
                 "merges": [ ["a", "b"] ]}})"},
            {"merge_shape", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}})"},
            {"merge_type", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}})"},
            {"vocab_negative", R"({"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}})"},
            {"vocab_huge", R"({"model": {"type": "BPE", "vocab": {"a": 4000000000}, "merges": []}})"},
            {"vocab_type", R"({"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}})"},
            {"vocab_sparse", R"({"model": {"type": "BPE", "vocab": {"a": 16000000}, "merges": []}})"},
            {"added_range", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                 "added_tokens": [{"id": 99999999999, "content": "<x>"}]})"},
            // (moc mis-reads an unbalanced "([" inside a raw string, hence the escapes)
            {"bad_regex", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
                          " \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"([\"},"
                          " \"behavior\": \"Isolated\"}}"},
            {"bad_behavior", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                 "pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"}})"},
            {"unknown_normalizer", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                 "normalizer": {"type": "Precompiled"}})"},
            {"template_id", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                 "post_processor": {"type": "TemplateProcessing", "single": "<s> $A",
                 "special_tokens": {"<s>": {"id": "<s>", "ids": [5], "tokens": ["<s>"]}}}})"},
            {"strip_char", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                 "decoder": {"type": "Strip", "content": "ab", "start": 1, "stop": 0}})"},
        };
        for (const auto& [name, json] : cases) {
            std::string msg;
            QVERIFY2(throwsError([&] { hfFromJson(name, json); }, &msg), name);
            QVERIFY2(msg.find(std::string(name)) != std::string::npos, msg.c_str());  // names the file
        }
        // Deeply nested Sequence normalizers are refused, not recursed into without bound.
        QByteArray nested = "{\"type\": \"Lowercase\"}";
        for (int i = 0; i < 2000; ++i) nested = "{\"type\": \"Sequence\", \"normalizers\": [" + nested + "]}";
        QVERIFY(throwsError([&] {
            hfFromJson("nested", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []},"
                                 " \"normalizer\": " + nested + "}");
        }));
        QVERIFY(throwsError([&] { Tokenizer::fromHuggingFace(m_tmp.filePath("absent.json").toStdString(), ""); }));
        QVERIFY(throwsError([&] {
            hfFromJson("badcfg", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})", "{oops");
        }));
    }

    // ---- llama2.c tokenizer.bin -----------------------------------------------------------
    void llama2cRoundTrip() {
        const QString dir = testpaths::stories260K();
        if (dir.isEmpty()) QSKIP("../shared/models/stories260K absent");
        auto tok = Tokenizer::fromLlama2c((dir + "/tok512.bin").toStdString(), 512);
        QCOMPARE(tok->vocabSize(), 512);
        QCOMPARE(tok->bosId(), 1);
        QCOMPARE(tok->eosId(), 2);
        for (const std::string text :
             {"Once upon a time, there was a little girl named Lily.", "Hello world",
              "  two leading spaces and trailing  ", "tabs\tand\nnew lines\n\n",
              "Ünïcödé: café, 你好, 😀!", "x", "a <s> tag"}) {
            const Ids withBos = tok->encode(text, true);
            QVERIFY(!withBos.empty());
            QCOMPARE(withBos.front(), 1);
            QCOMPARE(tok->decode(withBos), text);
            QCOMPARE(tok->decode(tok->encode(text, false)), text);
            for (int32_t id : withBos) QVERIFY(id >= 0 && id < 512);
        }
        QCOMPARE(tok->encode("", true), Ids{1});
        QCOMPARE(tok->encode("", false), Ids{});
        // Invalid UTF-8 and NUL fall back to bytes (+3) and decode back to the same bytes.
        const std::string raw("a\xFF\0b\xC3", 5);
        QCOMPARE(tok->decode(tok->encode(raw, false)), raw);
    }

    void llama2cHandDerivedIds() {
        auto tok = Tokenizer::fromLlama2c(write("small.bin", llama2cFile(smallLlama2cVocab())).toStdString(), 270);
        // "abc": BOS, dummy " "(259), a(260) b(261) c(262). Pair scores: " a" -3, "ab" -5,
        // "bc" -1 -> merge bc: [1,259,260,264]. Then " a" -3, "abc" -2 -> merge abc:
        // [1,259,266]; " abc" is no token: done.
        QCOMPARE(tok->encode("abc", true), (Ids{1, 259, 266}));
        // "aaa": [259,260,260,260]; "aa" (-0.5) at positions 1 and 2 ties: the leftmost
        // wins -> [259,269,260]; " aa" and "aaa" are no tokens.
        QCOMPARE(tok->encode("aaa", false), (Ids{259, 269, 260}));
        // "ab ab": [259,260,261,259,260,261]: " a"(-3) at 0 and 3 beat "ab"(-5): leftmost
        // first -> [265,261,259,260,261] -> " a" again -> [265,261,265,261]; then " ab"(-4)
        // twice -> [268,268].
        QCOMPARE(tok->encode("ab ab", false), (Ids{268, 268}));
        // "zé": z (0x7A) and é (C3 A9) are no tokens -> bytes + 3: 125, 198, 172; "ü" is.
        QCOMPARE(tok->encode("z\xC3\xA9", false), (Ids{259, 125, 198, 172}));
        QCOMPARE(tok->encode("\xC3\xBC", false), (Ids{259, 267}));
        QCOMPARE(tok->encode(std::string("\0", 1), false), (Ids{259, 3}));
        // Decoding: the space after BOS (or at the start) is dropped, <0xNN> -> raw byte.
        QCOMPARE(tok->decode({1, 259, 266}), std::string("abc"));
        QCOMPARE(tok->decode({259, 125, 198, 172, 2}), std::string("z\xC3\xA9"));
        QCOMPARE(tok->decode({268, 268}), std::string("ab ab"));
        QCOMPARE(tok->piece(266), std::string("abc"));
        QCOMPARE(tok->piece(270), std::string());
        QVERIFY(tok->isSpecial(1) && !tok->isSpecial(259));
    }

    void badLlama2cFiles() {
        const QByteArray good = llama2cFile(smallLlama2cVocab());
        const QString goodPath = write("good.bin", good);
        QVERIFY(!throwsError([&] { Tokenizer::fromLlama2c(goodPath.toStdString(), 270); }));
        // More tokens than the file holds; absurd vocabulary sizes.
        QVERIFY(throwsError([&] { Tokenizer::fromLlama2c(goodPath.toStdString(), 271); }));
        QVERIFY(throwsError([&] { Tokenizer::fromLlama2c(goodPath.toStdString(), -1); }));
        QVERIFY(throwsError([&] { Tokenizer::fromLlama2c(goodPath.toStdString(), 1 << 30); }));
        // Truncated anywhere: every prefix of the file must fail cleanly.
        for (qsizetype n : {qsizetype(0), qsizetype(2), qsizetype(4), qsizetype(10), good.size() / 2, good.size() - 1}) {
            const QString p = write("trunc.bin", good.left(n));
            QVERIFY2(throwsError([&] { Tokenizer::fromLlama2c(p.toStdString(), 270); }),
                     qPrintable(QString("prefix %1").arg(n)));
        }
        const auto patched = [&](qsizetype offset, int32_t value) {
            QByteArray b = good;
            std::memcpy(b.data() + offset, &value, 4);
            return write("patched.bin", b).toStdString();
        };
        // Header max_token_length negative / huge; first token length negative / huge /
        // above max_token_length (offset 8 = after header and first score).
        for (const auto& [offset, value] : std::vector<std::pair<qsizetype, int32_t>>{
                 {0, -1}, {0, 0x7FFFFFFF}, {8, -5}, {8, 0x7FFFFFF0}, {8, 100}}) {
            const std::string p = patched(offset, value);
            QVERIFY2(throwsError([&] { Tokenizer::fromLlama2c(p, 270); }),
                     qPrintable(QString("offset %1 value %2").arg(offset).arg(value)));
        }
        QVERIFY(throwsError([&] { Tokenizer::fromLlama2c(m_tmp.filePath("none.bin").toStdString(), 300); }));
        // NaN scores must neither crash nor merge.
        auto vocab = smallLlama2cVocab();
        vocab[266].score = std::numeric_limits<float>::quiet_NaN();
        auto nan = Tokenizer::fromLlama2c(write("nan.bin", llama2cFile(vocab)).toStdString(), 270);
        QCOMPARE(nan->encode("abc", false), (Ids{265, 264}));  // " a"(-3) then no "abc"
    }

    void cleanupTestCase() { qInfo("golden comparisons passed: %d", m_goldenChecks); }
};

void TstTokenizer::checkGolden(const QString& name) {
    const QString dir = testpaths::npmTokenizerDir(name);
    if (dir.isEmpty()) QSKIP("npm tokenizers absent: run scripts/fetch-test-data.sh BUILD_DIR");
    QFile f(testpaths::data("tokenizer_golden.json"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonArray cases = QJsonDocument::fromJson(f.readAll()).object()["tokenizers"].toObject()[name].toArray();
    QVERIFY(!cases.isEmpty());
    auto tok = Tokenizer::fromHuggingFace((dir + "/tokenizer.json").toStdString(),
                                          (dir + "/tokenizer_config.json").toStdString());
    const auto ids = [](const QJsonValue& v) {
        Ids out;
        for (const QJsonValue& x : v.toArray()) out.push_back(x.toInt());
        return out;
    };
    int failures = 0;
    for (const QJsonValue& c : cases) {
        const QJsonObject o = c.toObject();
        const std::string text = o["text"].toString().toStdString();
        const Ids plain = tok->encode(text, false), special = tok->encode(text, true);
        const std::string decoded = tok->decode(ids(o["ids"]));
        const auto check = [&](bool ok, const QString& what) {
            if (ok) {
                ++m_goldenChecks;
                return;
            }
            ++failures;
            qWarning().noquote() << name << what << "differs for" << QString::fromStdString(text);
        };
        check(plain == ids(o["ids"]), "ids " + show(plain) + " expected " + show(ids(o["ids"])));
        check(special == ids(o["ids_with_special"]),
              "ids_with_special " + show(special) + " expected " + show(ids(o["ids_with_special"])));
        check(decoded == o["decoded"].toString().toStdString(),
              "decoded \"" + QString::fromStdString(decoded) + "\"");
    }
    QCOMPARE(failures, 0);
}

QTEST_APPLESS_MAIN(TstTokenizer)
#include "tst_tokenizer.moc"
