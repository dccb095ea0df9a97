// Session files that must not load or must not be lost: hand-crafted corrupt and hostile
// files (bad header, wrong shapes, huge sizes, missing keys, wrong types), every truncation,
// invalid sessions refused before writing, a write that fails (RLIMIT_FSIZE) and a writer
// killed mid-write: the previous file stays intact. Qt Core only.
#include <QtTest>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "session_test_support.h"

using namespace attnscope;
using namespace sessiontest;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// sampleSession() saved at dir/name, and the file's bytes: what a failed save must keep.
struct SavedSample {
    std::string path;
    Session session;
    std::vector<uint8_t> bytes;
};
SavedSample saveSample(const QTemporaryDir& dir, const char* name) {
    SavedSample s{dir.filePath(name).toStdString(), sampleSession(), {}};
    saveSession(s.path, s.session);
    s.bytes = readBytes(s.path);
    return s;
}

// sampleSession() with one more tensor of n floats: a save that takes a while.
Session bigSession(int64_t n) {
    Session big = sampleSession();
    big.panels["alpha"].tensors["big"] = SessionTensor::f32({n}, std::vector<float>(size_t(n), 1.f));
    return big;
}

}  // namespace

class TestSessionFaults : public QObject {
    Q_OBJECT
private slots:
    void corruptFiles_data();
    void corruptFiles();
    void truncatedFiles();
    void invalidSessionsAreNotWritten();
    void failingWriteKeepsPreviousFile();
    void killedWriterKeepsPreviousFile();
};

void TestSessionFaults::corruptFiles_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("needle");
    auto add = [](const char* name, const std::vector<uint8_t>& b, const char* needle) {
        QTest::newRow(name) << QByteArray(reinterpret_cast<const char*>(b.data()), qsizetype(b.size())) << needle;
    };
    const json m = minimalManifest();
    add("valid (control)", craft(m), "");
    add("empty", {}, "");
    add("seven bytes", {1, 2, 3, 4, 5, 6, 7}, "");
    std::vector<uint8_t> huge(16, 0);
    huge[7] = 0x7f;  // header length 2^62: past the end and over the limit
    add("huge header length", huge, "");
    std::vector<uint8_t> notJson = {5, 0, 0, 0, 0, 0, 0, 0, '{', 'a', 'b', 'c', 'd'};
    add("header not json", notJson, "");
    add("header is an array", rawFile(json::array(), 0), "");
    add("offsets past end", craft(m, {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 800}}}), "");
    add("shape x dtype != bytes", craft(m, {{"dtype", "F32"}, {"shape", {3}}, {"data_offsets", {0, 8}}}), "");
    add("huge shape", craft(m, {{"dtype", "F32"}, {"shape", {1ll << 40, 1ll << 40}}, {"data_offsets", {0, 8}}}), "");
    add("plain safetensors", rawFile({{"p/t", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}}}, 8),
        "not an AttnScope session");
    add("manifest missing",
        rawFile({{"__metadata__", {{"format", "attnscope-session"}}}}, 0), "manifest is missing");
    {
        json h = {{"__metadata__", {{"format", "attnscope-session"}, {"attnscope.manifest", "{not json"}}}};
        add("manifest not json", rawFile(h, 0), "not valid JSON");
        h["__metadata__"]["attnscope.manifest"] = "[1,2]";
        add("manifest an array", rawFile(h, 0), "not a JSON object");
    }
    // The minimal manifest with one edit, and the message it must give.
    auto edited = [&](const char* name, const char* needle, const std::function<void(json&)>& edit) {
        json x = m;
        edit(x);
        add(name, craft(x), needle);
    };
    edited("schema version missing", "schema_version", [](json& x) { x.erase("schema_version"); });
    edited("schema version a string", "schema_version", [](json& x) { x["schema_version"] = "1"; });
    edited("schema version newer", "newer than this AttnScope", [](json& x) { x["schema_version"] = 99; });
    edited("schema version zero", "invalid", [](json& x) { x["schema_version"] = 0; });
    edited("model missing", "manifest: 'model' is missing", [](json& x) { x.erase("model"); });
    edited("model path a number", "'model.path' must be a string, not 5", [](json& x) { x["model"]["path"] = 5; });
    edited("prompt ids not array", "'prompt.token_ids' must be an array",
           [](json& x) { x["prompt"]["token_ids"] = "1,2"; });
    edited("negative token id", "'prompt.token_ids[1]' must be an integer in [0, 2147483647], not -2", [](json& x) {
        x["prompt"]["token_ids"] = {1, -2};
    });
    edited("pieces length", "as long as token_ids", [](json& x) { x["prompt"]["pieces"] = {"a"}; });
    edited("view layer a string", "'view.layer' must be an integer", [](json& x) { x["view"]["layer"] = "3"; });
    edited("view head out of range", "'view.head' = -5 is outside [-1, ", [](json& x) { x["view"]["head"] = -5; });
    edited("view range of 3", "view.range", [](json& x) { x["view"]["range"] = {1, 2, 3}; });
    edited("panels not object", "'panels' must be an object, not an array",
           [](json& x) { x["panels"] = json::array(); });
    edited("panel params missing", "'panels.p.params' is missing", [](json& x) { x["panels"]["p"].erase("params"); });
    add("listed tensor missing", craft(m, json::object(), 0), "listed in the manifest but missing");
    edited("unlisted tensor", "not listed in the manifest",
           [](json& x) { x["panels"]["p"]["tensors"] = json::object(); });
    edited("dtype differs from manifest", "but the manifest says",
           [](json& x) { x["panels"]["p"]["tensors"]["t"]["dtype"] = "I32"; });
    edited("dtype a number", "'panels.p.tensors.t.dtype' must be a string, not 3",
           [](json& x) { x["panels"]["p"]["tensors"]["t"]["dtype"] = 3; });
    edited("shape differs from manifest", "but the manifest says", [](json& x) {
        x["panels"]["p"]["tensors"]["t"]["shape"] = {1, 2};
    });
    add("unsupported dtype", craft(m, {{"dtype", "F16"}, {"shape", {4}}, {"data_offsets", {0, 8}}}),
        "sessions hold F32/F64/I32/I64/U8");
    {
        json h = {{"__metadata__", {{"format", "attnscope-session"}, {"attnscope.manifest", m.dump()}}},
                  {"no_slash", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}}};
        add("tensor name without panel", rawFile(h, 8), "is not <panel>/<name>");
    }
}

void TestSessionFaults::corruptFiles() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, needle);
    std::vector<uint8_t> b(bytes.begin(), bytes.end());
    if (QString(QTest::currentDataTag()) == "valid (control)") {
        Session s = loadSessionFromBuffer(b, "crafted");  // the crafting itself is right
        QCOMPARE(s.panels.at("p").tensors.at("t").shape, std::vector<int64_t>{2});
        return;
    }
    QString err = expectError([&] { loadSessionFromBuffer(b, "crafted"); }, needle.toStdString());
    QVERIFY2(err.isEmpty(), qPrintable(err));
    // From disk too (memory-mapped path), and the file is left as it was.
    QTemporaryDir dir;
    const std::string path = dir.filePath("bad.attnscope").toStdString();
    writeBytes(path, b);
    err = expectError([&] { loadSession(path); }, needle.toStdString());
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QVERIFY(readBytes(path) == b);
}

void TestSessionFaults::truncatedFiles() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("t.attnscope").toStdString();
    saveSession(path, sampleSession());
    const auto full = readBytes(path);
    // Every cut through the length field and header, and a spread through the data.
    for (size_t cut = 0; cut < full.size(); cut += (cut < 600 ? 1 : 37)) {
        std::vector<uint8_t> part(full.begin(), full.begin() + int64_t(cut));
        QString err = expectError([&] { loadSessionFromBuffer(part, "cut"); }, "");
        QVERIFY2(err.isEmpty(), qPrintable(QStringLiteral("cut at %1: %2").arg(cut).arg(err)));
    }
}

void TestSessionFaults::invalidSessionsAreNotWritten() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("v.attnscope").toStdString();
    Session s = sampleSession();
    s.panels["bad/name"] = SessionSection{};
    QVERIFY(expectError([&] { saveSession(path, s); }, "invalid panel id").isEmpty());
    s = sampleSession();
    s.panels["alpha"].tensors["f32"].shape = {5};  // 24 floats do not fill [5]
    QVERIFY(expectError([&] { saveSession(path, s); }, "needs").isEmpty());
    s = sampleSession();
    s.prompt = "\xff\xfe invalid utf-8";
    QVERIFY(expectError([&] { saveSession(path, s); }, "UTF-8").isEmpty());
    QVERIFY(!fs::exists(path));
}

void TestSessionFaults::failingWriteKeepsPreviousFile() {
    // The write fails part-way (a file size limit: EFBIG on the write, as on a full disk).
    QTemporaryDir dir;
    const SavedSample old = saveSample(dir, "f.attnscope");
    const std::string& path = old.path;
    const Session big = bigSession(1 << 20);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        rlimit lim{64 * 1024, 64 * 1024};
        setrlimit(RLIMIT_FSIZE, &lim);
        try {
            saveSession(path, big);
        } catch (const Error&) {
            _exit(7);  // the expected clean failure
        }
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    QVERIFY(WIFEXITED(status));
    QCOMPARE(WEXITSTATUS(status), 7);
    QVERIFY(readBytes(path) == old.bytes);
    compareSessions(old.session, loadSession(path));
    int files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path().toStdString())) ++files;
    QCOMPARE(files, 1);  // the temp file was removed
}

void TestSessionFaults::killedWriterKeepsPreviousFile() {
    QTemporaryDir dir;
    const SavedSample old = saveSample(dir, "k.attnscope");
    const std::string& path = old.path;
    // A child saves a large session over and over; it is SIGKILLed once its temp file exists.
    pid_t pid = fork();
    if (pid == 0) {
        const Session big = bigSession(64 << 20);
        for (;;) saveSession(path, big);
    }
    bool sawTemp = false;
    for (int i = 0; i < 20000 && !sawTemp; ++i) {
        for (const auto& e : fs::directory_iterator(dir.path().toStdString()))
            if (e.path().filename().string().find(".tmp-") != std::string::npos && fs::file_size(e.path()) > 0)
                sawTemp = true;
        if (!sawTemp) usleep(1000);
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    QVERIFY(sawTemp);
    QVERIFY(WIFSIGNALED(status));
    // Either the old file (killed before a rename) or a complete new one: never a torn file.
    const auto after = readBytes(path);
    if (after == old.bytes) {
        compareSessions(old.session, loadSession(path));
    } else {
        Session s = loadSession(path);
        QCOMPARE(s.panels.at("alpha").tensors.at("big").numel(), int64_t(64) << 20);
    }
}

QTEST_GUILESS_MAIN(TestSessionFaults)
#include "tst_session_faults.moc"
