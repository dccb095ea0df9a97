// Faults in the core: a model too large to allocate (Error OutOfMemory, and the process
// and other models stay usable), and hostile prompts through the built-in model's
// tokenizer and runtime: invalid UTF-8 (each maximal invalid subsequence -> U+FFFD, the
// Unicode "maximal subpart" rule written out by hand below), NUL bytes (kept) and
// 10^6 characters (tokenized, then rejected as longer than the context).
#include <QtTest>

#include "attnscope/error.h"
#include "attnscope/model.h"
#include "attnscope/tokenizer.h"
#include "attnscope/trace.h"

using namespace attnscope;

namespace {

std::string tinyModelDir() { return ATTNSCOPE_TEST_DATA_DIR "/../../resources/models/attnscope-tiny"; }

template <class F>
ErrorKind errorKindOf(F&& f, std::string* message) {
    try {
        f();
    } catch (const Error& e) {
        *message = e.what();
        return e.kind();
    }
    *message = "no error";
    return ErrorKind::Internal;
}

}  // namespace

class TestFaults : public QObject {
    Q_OBJECT
private slots:
    void modelTooLargeIsOutOfMemory();
    void invalidUtf8IsReplaced();
    void nulBytesSurvive();
    void millionCharactersAreRejectedCleanly();
};

void TestFaults::modelTooLargeIsOutOfMemory() {
    // A token embedding of 4,194,304 x 65,536 fp32 values is 1 TiB: no host can allocate it
    // (and Linux's overcommit heuristic refuses a single request beyond RAM + swap).
    RandomModelSpec big;
    big.nLayers = 1;
    big.nHeads = 1024;
    big.nKvHeads = 1024;
    big.headDim = 64;
    big.dModel = 65536;
    big.dFF = 1;
    big.vocabSize = 1 << 22;
    std::string msg;
    QCOMPARE(errorKindOf([&] { Model::random(big); }, &msg), ErrorKind::OutOfMemory);
    QVERIFY2(msg.find("out of memory") != std::string::npos, msg.c_str());
    // Nothing is left half-built: a normal model still loads and runs.
    auto m = Model::random(RandomModelSpec{});
    QCOMPARE(m->run({1, 2, 3})->length(), 3LL);
}

void TestFaults::invalidUtf8IsReplaced() {
    auto m = Model::open({tinyModelDir()});
    const std::string bad("Once upon \xff\xfe a time \xc3( \xe2\x82 \xed\xa0\x80 x\xf4\x90\x80\x80", 35);
    // \xff, \xfe: one U+FFFD each; \xc3 before '(': one; truncated \xe2\x82: one; the
    // surrogate \xed\xa0\x80: three (\xed cannot start \xa0); \xf4\x90... (> U+10FFFF): four.
    const std::string r = "\xef\xbf\xbd";
    const std::string fixed = "Once upon " + r + r + " a time " + r + "( " + r + " " + r + r + r + " x" + r + r + r + r;
    QCOMPARE(m->tokenize(bad, true), m->tokenize(fixed, true));
    QCOMPARE(m->tokenizer()->decode(m->tokenize(bad, false)), fixed);
    QVERIFY(m->run(m->tokenize(bad, true))->length() > 0);
}

void TestFaults::nulBytesSurvive() {
    auto m = Model::open({tinyModelDir()});
    const std::string text("a\0b\0\0c", 6);
    const auto ids = m->tokenize(text, false);
    QCOMPARE(m->tokenizer()->decode(ids), text);
    QVERIFY(m->run(m->tokenize(text, true))->length() >= 4);
}

void TestFaults::millionCharactersAreRejectedCleanly() {
    auto m = Model::open({tinyModelDir()});
    std::string text;
    while (text.size() < 1000000) text += "the quick brown fox. ";
    text.resize(1000000);
    const auto ids = m->tokenize(text, true);
    QVERIFY(ids.size() > 1024);
    QCOMPARE(m->tokenizer()->decode(std::vector<int32_t>(ids.begin() + 1, ids.end())), text);
    std::string msg;
    QCOMPARE(errorKindOf([&] { m->run(ids); }, &msg), ErrorKind::BadInput);
    QVERIFY2(msg.find("longer than the model's context") != std::string::npos, msg.c_str());
    QCOMPARE(m->run(std::vector<int32_t>(ids.begin(), ids.begin() + 1024))->length(), 1024LL);
}

QTEST_APPLESS_MAIN(TestFaults)
#include "tst_faults.moc"
