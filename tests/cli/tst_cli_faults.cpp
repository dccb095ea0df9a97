// attnscope-cli under hostile prompts and memory exhaustion: invalid UTF-8 (each maximal
// invalid subsequence becomes U+FFFD, as Python's errors="replace"), NUL bytes (kept as
// the byte-level symbol of 0x00), a 10^6-character prompt (rejected: longer than the
// context) and a run that cannot get memory (RLIMIT_DATA): an "out of memory" message and
// exit code 1, never a signal.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/resource.h>

#include "cli_runner.h"

using clitest::cli;
using clitest::Result;

namespace {

QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
    const QString path = dir.filePath(name);
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(bytes);
    return path;
}

QJsonObject runJson(const QString& promptFile, Result* raw = nullptr) {
    return clitest::cliJson({"run", "--prompt-file", promptFile}, raw);
}

// Runs the CLI with its data segment (heap and anonymous mappings) capped at `bytes`.
Result cliWithDataLimit(const QStringList& args, rlim_t bytes) {
    QProcess p;
    p.setChildProcessModifier([bytes] {
        rlimit lim{bytes, bytes};
        ::setrlimit(RLIMIT_DATA, &lim);
    });
    p.start(QStringLiteral(ATTNSCOPE_CLI_PATH), args);
    p.waitForFinished(300000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

}  // namespace

class TestCliFaults : public QObject {
    Q_OBJECT
private slots:
    void invalidUtf8BecomesReplacementCharacters();
    void nulBytesAreKept();
    void millionCharacterPromptIsRejected();
    void outOfMemoryIsReported();
};

void TestCliFaults::invalidUtf8BecomesReplacementCharacters() {
    QTemporaryDir dir;
    // \xff, \xfe: one U+FFFD each; \xc3( : U+FFFD then '('; \xe2\x82 (truncated): one U+FFFD.
    const QString bad = writeFile(dir, "bad.txt", QByteArray("Once upon \xff\xfe a time \xc3( \xe2\x82", 25));
    const QString fixed = writeFile(dir, "fixed.txt",
                                    QByteArray("Once upon \xef\xbf\xbd\xef\xbf\xbd a time \xef\xbf\xbd( \xef\xbf\xbd"));
    const QJsonObject a = runJson(bad), b = runJson(fixed);
    QVERIFY(!a["tokens"].toArray().isEmpty());
    QCOMPARE(a["tokens"].toArray(), b["tokens"].toArray());
    QCOMPARE(a["next_top"].toArray().size(), 10);
}

void TestCliFaults::nulBytesAreKept() {
    QTemporaryDir dir;
    const QString path = writeFile(dir, "nul.txt", QByteArray("Once\0upon\0\0a time", 17));
    const QJsonObject j = runJson(path);
    // Byte-level BPE writes byte 0x00 as U+0100 ("Ā"); three NULs, three such pieces.
    int nuls = 0;
    for (const auto& p : j["pieces"].toArray()) nuls += p.toString().count(QChar(0x0100));
    QCOMPARE(nuls, 3);
}

void TestCliFaults::millionCharacterPromptIsRejected() {
    QTemporaryDir dir;
    QByteArray text;
    while (text.size() < 1000000) text += "the quick brown fox. ";
    text.truncate(1000000);
    const QString path = writeFile(dir, "big.txt", text);
    const Result r = cli({"run", "--prompt-file", path});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("longer than the model's context"), r.err.constData());
}

void TestCliFaults::outOfMemoryIsReported() {
#if defined(__SANITIZE_ADDRESS__)
    QSKIP("AddressSanitizer's shadow memory does not fit under RLIMIT_DATA");
#else
    // 110 MB: enough for the CLI and libtorch to start (Debian's libtorch 1.13 needs ~80 MB),
    // far too little for a 600-token run of the built-in model (~200 MB).
    constexpr rlim_t kLimit = 110u << 20;
    if (cliWithDataLimit({"--version"}, kLimit).code != 0)
        QSKIP("this libtorch needs more than 110 MB to start; the test cannot pick a limit");
    QTemporaryDir dir;
    QByteArray text;
    for (int i = 0; i < 100; ++i) text += "the quick brown fox jumps. ";
    const QString path = writeFile(dir, "p.txt", text);
    const Result r = cliWithDataLimit({"run", "--prompt-file", path}, kLimit);
    QCOMPARE(r.code, 1);  // a normal exit, not a signal (-1)
    QVERIFY2(r.err.contains("out of memory"), r.err.constData());
#endif
}

QTEST_GUILESS_MAIN(TestCliFaults)
#include "tst_cli_faults.moc"
