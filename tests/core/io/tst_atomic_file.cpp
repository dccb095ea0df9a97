// writeFileAtomic (every save goes through it: sessions, safetensors, CSV exports) under
// injected faults: a write that fails part-way (RLIMIT_FSIZE gives EFBIG exactly as a full
// disk gives ENOSPC), a writer SIGKILLed at many points during a large save, and a target
// directory that does not exist. The previous file must stay byte-identical every time.
#include "attnscope/error.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"

#include <QtTest>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace attnscope;
namespace fs = std::filesystem;

namespace {

std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Files in dir other than `keep` (temp files left behind).
std::vector<std::string> strayFiles(const std::string& dir, const std::string& keep) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename() != keep) out.push_back(e.path().filename().string());
    return out;
}

// Runs f in a child whose files may not grow past limitBytes (a full disk for the writer).
// Returns the child's exit code: 0 when f threw attnscope::Error, 1 when it succeeded,
// 2 for any other exception.
int runWithFileSizeLimit(rlim_t limitBytes, const std::function<void()>& f) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing us
        rlimit lim{limitBytes, limitBytes};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        int code = 1;
        try {
            f();
        } catch (const Error&) {
            code = 0;
        } catch (...) {
            code = 2;
        }
        ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

class TestAtomicFile : public QObject {
    Q_OBJECT
private slots:
    void writesAndReplaces();
    void keepsModeOfReplacedFile();
    void failedWriteKeepsPrevious();
    void failedSafetensorsWriteKeepsPrevious();
    void killedWriterKeepsPrevious();
    void missingDirectoryIsAnError();
};

void TestAtomicFile::writesAndReplaces() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("a.txt").toStdString();
    io::writeFileAtomic(path, "first");
    QCOMPARE(readAll(path), std::string("first"));
    const std::string a = "x", b(100000, 'y');
    io::writeFileAtomic(path, {{a.data(), a.size()}, {b.data(), b.size()}});
    QCOMPARE(readAll(path), a + b);
    QVERIFY(strayFiles(dir.path().toStdString(), "a.txt").empty());
}

void TestAtomicFile::keepsModeOfReplacedFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("m.txt").toStdString();
    io::writeFileAtomic(path, "new file");
    struct stat st {};
    QCOMPARE(::stat(path.c_str(), &st), 0);
    QCOMPARE(st.st_mode & 0777, mode_t(0644));  // not mkstemp's 0600
    QCOMPARE(::chmod(path.c_str(), 0640), 0);
    io::writeFileAtomic(path, "replaced");
    QCOMPARE(::stat(path.c_str(), &st), 0);
    QCOMPARE(st.st_mode & 0777, mode_t(0640));
}

void TestAtomicFile::failedWriteKeepsPrevious() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("s.attnscope").toStdString();
    const std::string previous(1000, 'p');
    io::writeFileAtomic(path, previous);
    // Fail at the first byte, inside the first chunk, and between chunks.
    for (rlim_t limit : {rlim_t(0), rlim_t(4096), rlim_t(1 << 20)}) {
        const std::string big(3 << 20, 'n');
        const int code = runWithFileSizeLimit(limit, [&] {
            io::writeFileAtomic(path, {{big.data(), size_t(1 << 20)}, {big.data(), big.size()}});
        });
        QCOMPARE(code, 0);  // an attnscope::Error, not success or a crash
        QCOMPARE(readAll(path), previous);
        QVERIFY2(strayFiles(dir.path().toStdString(), "s.attnscope").empty(), "temp file left behind");
    }
}

void TestAtomicFile::failedSafetensorsWriteKeepsPrevious() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("w.safetensors").toStdString();
    io::writeSafetensors(path, {{"a", io::StDType::F32, {2}, std::vector<uint8_t>(8, 7)}}, {});
    const std::string previous = readAll(path);
    const int code = runWithFileSizeLimit(64 << 10, [&] {
        io::writeSafetensors(path, {{"b", io::StDType::U8, {1 << 20}, std::vector<uint8_t>(1 << 20, 9)}}, {});
    });
    QCOMPARE(code, 0);
    QCOMPARE(readAll(path), previous);
    QVERIFY(strayFiles(dir.path().toStdString(), "w.safetensors").empty());
    // The previous file still parses as the tensor it was.
    auto f = io::SafetensorsFile::open(path);
    QCOMPARE(f->tensors().size(), size_t(1));
    QCOMPARE(f->tensors()[0].name, std::string("a"));
}

void TestAtomicFile::killedWriterKeepsPrevious() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("k.bin").toStdString();
    const std::string previous(4096, 'o');
    io::writeFileAtomic(path, previous);
    const std::string next(64 << 20, 'N');  // large enough to be killed mid-write
    int killedMidWay = 0;
    for (int delayUs : {0, 200, 1000, 5000, 20000, 60000, 150000}) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            try {
                for (;;) io::writeFileAtomic(path, next);  // until killed
            } catch (...) {
            }
            ::_exit(3);
        }
        ::usleep(useconds_t(delayUs));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        QVERIFY(WIFSIGNALED(status));
        // The target is always one whole version: the old one or a complete new one.
        const std::string now = readAll(path);
        QVERIFY2(now == previous || now == next,
                 qPrintable(QStringLiteral("partial file of %1 bytes after a kill at %2 us")
                                .arg(now.size()).arg(delayUs)));
        killedMidWay += !strayFiles(dir.path().toStdString(), "k.bin").empty();
        // A killed process cannot remove its temp file; it never replaces the target.
        for (const auto& f : strayFiles(dir.path().toStdString(), "k.bin")) {
            QVERIFY2(f.rfind("k.bin.tmp-", 0) == 0, f.c_str());
            fs::remove(fs::path(dir.path().toStdString()) / f);
        }
    }
    QVERIFY2(killedMidWay > 0, "no kill landed during a write: the test did not test anything");
}

void TestAtomicFile::missingDirectoryIsAnError() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("no/such/dir/x.txt").toStdString();
    try {
        io::writeFileAtomic(path, "x");
        QFAIL("no error");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::NotFound);
        QVERIFY(std::string(e.what()).find("x.txt") != std::string::npos);
    }
}

QTEST_GUILESS_MAIN(TestAtomicFile)
#include "tst_atomic_file.moc"
