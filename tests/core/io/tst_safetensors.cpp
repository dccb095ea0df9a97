// Safetensors reader/writer and sniffing, checked against the format spec: hand-built files,
// round trips, atomic writes, hostile headers and indexes. The Hugging Face fixtures are
// read in tst_safetensors_fixtures.cpp.
#include "../../../core/src/io/safetensors.h"
#include "attnscope/error.h"
#include "test_paths.h"

#include <QtTest>  // with all of QtCore (QDir, QFile, QJsonDocument, QTemporaryDir, QtEndian)

#include <sys/resource.h>
#include <sys/stat.h>
#include <cmath>
#include <csignal>
#include <cstring>
#include <functional>
#include <random>

using namespace attnscope;
using namespace attnscope::io;

namespace {
void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}
// The spec's layout: u64 little-endian header length N, N bytes of JSON, then data.
quint64 headerLen(const QByteArray& raw) { return qFromLittleEndian<quint64>(raw.constData()); }
QByteArray le64(quint64 v) {
    QByteArray b(8, 0);
    qToLittleEndian(v, b.data());
    return b;
}
QByteArray stFile(const QByteArray& hdr, int dataBytes) { return le64(hdr.size()) + hdr + QByteArray(dataBytes, 0); }
// One header entry, "name":{"dtype":..,"shape":..,"data_offsets":..}; raw JSON fragments.
QByteArray entry(const char* name, const char* dtype, const char* shape, const char* offsets) {
    return QByteArray("\"") + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape +
           ",\"data_offsets\":" + offsets + "}";
}
QByteArray obj(const QByteArray& a, const QByteArray& b = {}) { return "{" + a + (b.isEmpty() ? "" : "," + b) + "}"; }

// Empty when f throws an Error of `kind` whose message contains every needle.
QString expectError(const std::function<void()>& f, ErrorKind kind, const QStringList& needles) {
    try {
        f();
    } catch (const Error& e) {
        const QString msg = QString::fromUtf8(e.what());
        if (e.kind() != kind) return QStringLiteral("wrong kind %1: %2").arg(errorKindName(e.kind()), msg);
        for (const QString& n : needles)
            if (!msg.contains(n)) return QStringLiteral("message lacks '%1': %2").arg(n, msg);
        return {};
    } catch (const std::exception& e) {
        return QStringLiteral("non-Error exception: %1").arg(e.what());
    }
    return QStringLiteral("no exception");
}
#define EXPECT_ERROR(expr, kind, ...)                                               \
    do {                                                                            \
        const QString r_ = expectError([&] { (void)(expr); }, kind, {__VA_ARGS__}); \
        QVERIFY2(r_.isEmpty(), qPrintable(r_));                                     \
    } while (0)

QStringList leftoverTemps(const QString& dir) {
    return QDir(dir).entryList({"*.tmp-*"}, QDir::Files | QDir::Hidden);
}
NamedBuffer buf(std::string name, StDType dt, std::vector<int64_t> shape, std::vector<uint8_t> b) {
    return NamedBuffer{std::move(name), dt, std::move(shape), std::move(b)};
}
std::vector<uint8_t> seqBytes(size_t n, uint8_t seed) {  // distinct bytes per tensor and position
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed + 31 * i);
    return v;
}
}  // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
private slots:
    void dtypeTable();
    void requireAndMissingPaths();
    void roundTrip();
    void atomicWrite();
    void badFiles_data();
    void badFiles();
    void badIndexes_data();
    void badIndexes();
    void mutatedHeadersNeverCrash();
    void sniff();

private:
    QTemporaryDir m_tmp;
    std::string tmp(const QString& rel) const { return m_tmp.filePath(rel).toStdString(); }
};

void TestSafetensors::dtypeTable() {
    const std::vector<std::tuple<StDType, const char*, size_t>> spec = {  // from the safetensors spec
        {StDType::F64, "F64", 8},   {StDType::F32, "F32", 4},         {StDType::F16, "F16", 2},
        {StDType::BF16, "BF16", 2}, {StDType::I64, "I64", 8},         {StDType::I32, "I32", 4},
        {StDType::I16, "I16", 2},   {StDType::I8, "I8", 1},           {StDType::U8, "U8", 1},
        {StDType::BOOL, "BOOL", 1}, {StDType::F8_E4M3, "F8_E4M3", 1}, {StDType::F8_E5M2, "F8_E5M2", 1}};
    for (const auto& [t, name, size] : spec)
        QVERIFY2(QString(stDTypeName(t)) == name && stDTypeSize(t) == size && stDTypeFromName(name) == t, name);
    QVERIFY(!stDTypeFromName("f32") && !stDTypeFromName("U32"));
}

void TestSafetensors::requireAndMissingPaths() {
    const auto ws = WeightSet::openFile(testpaths::data("models/llama2/model.safetensors").toStdString());
    EXPECT_ERROR(ws->require("model.nope.weight"), ErrorKind::NotFound, "model.nope.weight",
                 "llama2/model.safetensors");
    EXPECT_ERROR(ws->require("model.nope.weight", {1}), ErrorKind::NotFound, "model.nope.weight");
    EXPECT_ERROR(ws->require("model.embed_tokens.weight", {32, 256}), ErrorKind::BadInput,
                 "model.embed_tokens.weight", "expected [32, 256], file has [256, 32]", "llama2/model.safetensors");
    EXPECT_ERROR(ws->require("model.norm.weight", {32, 1}), ErrorKind::BadInput, "expected [32, 1]");
    QVERIFY(ws->find("model.nope.weight") == nullptr);

    QVERIFY(QDir(m_tmp.path()).mkpath("emptymodel"));
    EXPECT_ERROR(WeightSet::openDirectory(tmp("emptymodel")), ErrorKind::NotFound, "emptymodel");
    EXPECT_ERROR(WeightSet::openDirectory(tmp("nonexistent")), ErrorKind::NotFound, "nonexistent");
    EXPECT_ERROR(SafetensorsFile::open(tmp("absent.safetensors")), ErrorKind::NotFound, "absent.safetensors");
    EXPECT_ERROR(SafetensorsFile::open(m_tmp.path().toStdString()), ErrorKind::BadInput, "regular file");
}

void TestSafetensors::roundTrip() {
    const std::vector<NamedBuffer> in = {
        // Odd sizes leave later tensors unaligned; empty, scalar, rank 8 and UTF-8 names too.
        buf("f32", StDType::F32, {2, 3}, seqBytes(24, 1)), buf("bf16", StDType::BF16, {7}, seqBytes(14, 2)),
        buf("f16", StDType::F16, {1, 1, 3}, seqBytes(6, 3)), buf("f64", StDType::F64, {2}, seqBytes(16, 4)),
        buf("i64", StDType::I64, {3}, seqBytes(24, 5)), buf("i32", StDType::I32, {5}, seqBytes(20, 6)),
        buf("i16", StDType::I16, {3}, seqBytes(6, 7)), buf("i8", StDType::I8, {1}, seqBytes(1, 8)),
        buf("u8", StDType::U8, {3}, seqBytes(3, 9)), buf("bool", StDType::BOOL, {4}, {1, 0, 0, 1}),
        buf("f8a", StDType::F8_E4M3, {3}, seqBytes(3, 10)), buf("f8b", StDType::F8_E5M2, {2}, seqBytes(2, 11)),
        buf("empty", StDType::F32, {0, 4}, {}), buf("scalar", StDType::F32, {}, seqBytes(4, 12)),
        buf("h\xc3\xa9llo.w\xc3\xb6rld", StDType::U8, {1}, {42}),
        buf("big.weight", StDType::F32, {8, 8, 2, 1, 1, 1, 1, 1}, seqBytes(512, 13))};
    const std::map<std::string, std::string> meta = {
        {"format", "pt"}, {"note", "\xc3\xbcnicode \xe2\x9c\x93"}, {"empty", ""}};
    const QString path = m_tmp.filePath("rt.safetensors");
    writeSafetensors(path.toStdString(), in, meta);
    QVERIFY(leftoverTemps(m_tmp.path()).isEmpty());

    const auto f = SafetensorsFile::open(path.toStdString());
    QCOMPARE(f->tensors().size(), in.size());
    QCOMPARE(f->metadata(), meta);
    for (const NamedBuffer& b : in) {
        const TensorEntry* t = f->find(b.name);
        QVERIFY2(t, b.name.c_str());
        QVERIFY(t->dtype == b.dtype && t->shape == b.shape && t->file == path.toStdString());
        QCOMPARE(t->nbytes, uint64_t(b.bytes.size()));
        QVERIFY(b.bytes.empty() || std::memcmp(t->data, b.bytes.data(), b.bytes.size()) == 0);
    }
    QVERIFY(f->find("scalar")->numel() == 1 && f->find("empty")->numel() == 0);
    // The raw file against the spec, read with Qt's JSON parser.
    const QByteArray raw = testpaths::readBytes(path);
    const quint64 n = headerLen(raw);
    QVERIFY(8 + n <= quint64(raw.size()) && (8 + n) % 8 == 0);  // padded: the data section starts 8-aligned
    const QJsonObject h = QJsonDocument::fromJson(raw.mid(8, int(n))).object();
    QCOMPARE(h.size(), qsizetype(in.size()) + 1);  // Qt parsed it: valid JSON, tensors + metadata
    QCOMPARE(h.value("__metadata__").toObject().value("note").toString(),
             QString::fromUtf8("\xc3\xbcnicode \xe2\x9c\x93"));
    quint64 total = 0;
    for (const NamedBuffer& b : in) {
        const QJsonObject e = h.value(QString::fromStdString(b.name)).toObject();
        QCOMPARE(e.value("dtype").toString(), QString(stDTypeName(b.dtype)));
        QCOMPARE(e.value("shape").toArray().size(), qsizetype(b.shape.size()));
        const QJsonArray off = e.value("data_offsets").toArray();
        const qint64 begin = qint64(off[0].toDouble()), end = qint64(off[1].toDouble());
        QCOMPARE(raw.mid(int(8 + n + begin), int(end - begin)),
                 QByteArray(reinterpret_cast<const char*>(b.bytes.data()), int(b.bytes.size())));
        total += quint64(end - begin);
    }
    QCOMPARE(quint64(raw.size()), 8 + n + total);
}

void TestSafetensors::atomicWrite() {
    const QString dir = m_tmp.filePath("atomic");
    QVERIFY(QDir().mkpath(dir));
    const QString path = dir + "/model.safetensors";
    const std::string p = path.toStdString();
    const std::vector<NamedBuffer> v1 = {buf("w", StDType::F32, {4}, seqBytes(16, 1))};
    writeSafetensors(p, v1, {{"v", "1"}});
    QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup));
    const QByteArray old = testpaths::readBytes(path);
    QVERIFY(!old.isEmpty());
    // 1. Invalid tensors (byte count, duplicate, negative dim, reserved or non-UTF-8 name):
    //    rejected before anything is written.
    EXPECT_ERROR(writeSafetensors(p, {buf("a", StDType::F32, {3}, seqBytes(8, 0))}, {}), ErrorKind::BadInput,
                 "model.safetensors", "'a'");
    EXPECT_ERROR(writeSafetensors(p, {buf("a", StDType::U8, {1}, {1}), buf("a", StDType::U8, {1}, {2})}, {}),
                 ErrorKind::BadInput, "'a'");
    EXPECT_ERROR(writeSafetensors(p, {buf("a", StDType::U8, {-1}, {})}, {}), ErrorKind::BadInput, "'a'");
    EXPECT_ERROR(writeSafetensors(p, {buf("__metadata__", StDType::U8, {1}, {1})}, {}), ErrorKind::BadInput);
    EXPECT_ERROR(writeSafetensors(p, {buf("bad\xff", StDType::U8, {1}, {1})}, {}), ErrorKind::BadInput);
    QCOMPARE(testpaths::readBytes(path), old);
    // 2. The write fails mid-way: a file size limit makes write() fail with EFBIG after the
    //    temp file exists and has received data.
    const std::vector<NamedBuffer> big = {buf("w", StDType::F32, {16384}, seqBytes(65536, 2))};
    struct rlimit saved {}, lim {};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = {4096, saved.rlim_max};
    const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &lim), 0);
    const QString r = expectError([&] { writeSafetensors(p, big, {}); }, ErrorKind::BadInput,
                                  {"model.safetensors"});
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, oldHandler);
    QVERIFY2(r.isEmpty(), qPrintable(r));
    QCOMPARE(testpaths::readBytes(path), old);
    QVERIFY2(leftoverTemps(dir).isEmpty(), qPrintable(leftoverTemps(dir).join(',')));
    // 3. The directory does not exist: NotFound, nothing created anywhere.
    EXPECT_ERROR(writeSafetensors((dir + "/missing/model.safetensors").toStdString(), v1, {}), ErrorKind::NotFound,
                 "missing/model.safetensors");
    QVERIFY(!QFileInfo::exists(dir + "/missing"));
    // 4. The target is a non-empty directory, so the final rename fails.
    QVERIFY(QDir(dir).mkpath("occupied"));
    writeFile(dir + "/occupied/keep", "keep");
    EXPECT_ERROR(writeSafetensors((dir + "/occupied").toStdString(), v1, {}), ErrorKind::BadInput, "occupied");
    QCOMPARE(testpaths::readBytes(dir + "/occupied/keep"), QByteArray("keep"));
    QVERIFY2(leftoverTemps(dir).isEmpty(), qPrintable(leftoverTemps(dir).join(',')));
    // 5. A completed write replaces the file and keeps its permissions.
    writeSafetensors(p, big, {{"v", "2"}});
    QVERIFY(testpaths::readBytes(path) != old);
    const auto f = SafetensorsFile::open(p);
    QVERIFY(f->metadata().at("v") == "2" && f->find("w")->nbytes == 65536);
    QVERIFY(std::memcmp(f->find("w")->data, big[0].bytes.data(), 65536) == 0);
    struct stat st {};
    QCOMPARE(::stat(path.toLocal8Bit().constData(), &st), 0);
    QCOMPARE(st.st_mode & 0777, mode_t(0640));
    QVERIFY(leftoverTemps(dir).isEmpty());
}

void TestSafetensors::badFiles_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("needle");
    const auto row = [](const char* tag, const QByteArray& bytes, const char* needle,
                        ErrorKind kind = ErrorKind::BadInput) {
        QTest::newRow(tag) << bytes << int(kind) << QString(needle);
    };
    const auto one = [](const char* dt, const char* shape, const char* off, int data) {
        return stFile(obj(entry("t", dt, shape, off)), data);
    };
    row("empty", {}, "empty");
    row("short", QByteArray("\x02\0\0", 3), "8-byte");
    row("len_past_eof", le64(1000) + "{}", "past the end");
    row("len_huge", le64(~0ull) + "{}", "exceeds");
    row("len_over_limit", le64(200ull << 20) + "{}", "exceeds");
    row("len_zero", le64(0), "JSON object");
    row("not_json", stFile("{not json}", 0), "not valid JSON");
    row("json_array", stFile("[1, 2]", 0), "JSON object");
    row("json_trailing", stFile("{} {}", 0), "not valid JSON");
    row("bad_utf8", stFile("{\"\xff\":{}}", 0), "not valid JSON");
    row("unknown_dtype", one("\"F17\"", "[1]", "[0,4]", 4), "dtype");
    row("spec_dtype_unsupported", one("\"U32\"", "[1]", "[0,4]", 4), "U32", ErrorKind::Unsupported);
    row("dtype_not_string", one("4", "[1]", "[0,4]", 4), "dtype");
    row("negative_dim", one("\"F32\"", "[-1]", "[0,4]", 4), "shape");
    row("float_dim", one("\"F32\"", "[1.5]", "[0,4]", 4), "shape");
    row("rank_9", one("\"U8\"", "[1,1,1,1,1,1,1,1,1]", "[0,1]", 1), "array longer");
    row("dim_overflow", one("\"U8\"", "[4294967296,4294967296,4294967296]", "[0,1]", 1), "overflows");
    row("shape_bytes_mismatch", one("\"F32\"", "[2,3]", "[0,20]", 24), "needs 24 bytes");
    row("offsets_past_data", one("\"F32\"", "[2,3]", "[0,24]", 16), "past the data section");
    row("begin_gt_end", one("\"U8\"", "[0]", "[8,0]", 8), "begin");
    row("offsets_negative", one("\"U8\"", "[1]", "[-1,0]", 8), "data_offsets");
    row("offsets_three", one("\"U8\"", "[1]", "[0,1,2]", 8), "data_offsets");
    row("missing_offsets", stFile("{\"t\":{\"dtype\":\"U8\",\"shape\":[1]}}", 8), "data_offsets");
    row("missing_shape", stFile("{\"t\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 8), "shape");
    row("entry_not_object", stFile("{\"t\":5}", 0), "'t'");
    const QByteArray a = entry("a", "\"U8\"", "[4]", "[0,4]");
    row("overlap", stFile(obj(a, entry("b", "\"U8\"", "[4]", "[2,6]")), 6), "overlapping");
    row("same_range", stFile(obj(a, entry("b", "\"I32\"", "[1]", "[0,4]")), 4), "overlapping");
    row("duplicate_key", stFile(obj(a, entry("a", "\"U8\"", "[4]", "[4,8]")), 8), "twice");
    row("metadata_not_string", stFile("{\"__metadata__\":{\"a\":1}}", 0), "metadata");
    row("metadata_not_object", stFile("{\"__metadata__\":\"x\"}", 0), "__metadata__");
    row("deep_nesting", stFile("{\"a\":" + QByteArray(100, '[') + QByteArray(100, ']') + "}", 0), "nests");
}

void TestSafetensors::badFiles() {
    QFETCH(QByteArray, bytes);
    QFETCH(int, kind);
    QFETCH(QString, needle);
    const QString name = QStringLiteral("bad_%1.safetensors").arg(QString::fromUtf8(QTest::currentDataTag()));
    writeFile(m_tmp.filePath(name), bytes);
    const auto k = ErrorKind(kind);
    EXPECT_ERROR(SafetensorsFile::open(tmp(name)), k, name, needle);
    EXPECT_ERROR(WeightSet::openFile(tmp(name)), k, name, needle);
    EXPECT_ERROR(SafetensorsFile::fromBuffer({bytes.begin(), bytes.end()}, "buffer:" + name.toStdString()), k,
                 "buffer:" + name, needle);
}

void TestSafetensors::badIndexes_data() {
    QTest::addColumn<QByteArray>("index");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("needle");
    const auto row = [](const char* tag, const QByteArray& index, const char* needle, int kind) {
        QTest::newRow(tag) << index << kind << QString(needle);
    };
    const auto wm = [](const char* y) {  // x lives in a.safetensors, y in b.safetensors
        return QByteArray("{\"metadata\":{},\"weight_map\":{\"x\":\"a.safetensors\",\"y\":\"") + y + "\"}}";
    };
    const int B = int(ErrorKind::BadInput);
    row("good", wm("b.safetensors"), "", -1);
    row("missing_shard", wm("c.safetensors"), "c.safetensors", int(ErrorKind::NotFound));
    row("dotdot_shard", wm("../b.safetensors"), "../b.safetensors", B);
    row("absolute_shard", wm("/tmp/b.safetensors"), "/tmp/b.safetensors", B);
    row("subdir_shard", wm("sub/b.safetensors"), "sub/b.safetensors", B);
    row("dotdot_only", wm(".."), "'..'", B);
    row("corrupt_shard", wm("corrupt.safetensors"), "corrupt.safetensors", B);
    row("tensor_not_in_shard", "{\"weight_map\":{\"x\":\"b.safetensors\"}}", "'x'", B);
    row("no_weight_map", "{\"metadata\":{}}", "weight_map", B);
    row("empty_weight_map", "{\"weight_map\":{}}", "weight_map", B);
    row("shard_not_string", "{\"weight_map\":{\"x\":3}}", "'x'", B);
    row("not_json", "{\"weight_map\":", "JSON", B);
    row("not_object", "[]", "object", B);
    row("duplicate_tensor", "{\"weight_map\":{\"x\":\"a.safetensors\",\"x\":\"b.safetensors\"}}", "twice", B);
}

void TestSafetensors::badIndexes() {
    QFETCH(QByteArray, index);
    QFETCH(int, kind);
    QFETCH(QString, needle);
    const QString dir = m_tmp.filePath(QStringLiteral("idx_%1").arg(QString::fromUtf8(QTest::currentDataTag())));
    QVERIFY(QDir().mkpath(dir + "/sub"));
    writeSafetensors((dir + "/a.safetensors").toStdString(), {buf("x", StDType::F32, {2}, seqBytes(8, 1))}, {});
    writeSafetensors((dir + "/b.safetensors").toStdString(), {buf("y", StDType::F32, {3}, seqBytes(12, 2))}, {});
    QVERIFY(QFile::copy(dir + "/b.safetensors", dir + "/sub/b.safetensors"));  // reachable, yet not allowed
    writeFile(dir + "/corrupt.safetensors", "junk");
    writeFile(dir + "/model.safetensors.index.json", index);
    if (kind < 0) {
        const auto ws = WeightSet::openDirectory(dir.toStdString());
        QCOMPARE(ws->names(), (std::vector<std::string>{"x", "y"}));
        QCOMPARE(ws->fileCount(), size_t(2));
        QCOMPARE(ws->require("y", {3}).file, (dir + "/b.safetensors").toStdString());
        return;
    }
    EXPECT_ERROR(WeightSet::openDirectory(dir.toStdString()), ErrorKind(kind), "model.safetensors.index.json",
                 needle);
}

void TestSafetensors::mutatedHeadersNeverCrash() {
    const QByteArray raw = testpaths::readBytes(testpaths::data("models/llama2/model.safetensors"));
    QVERIFY(raw.size() > 64);
    const std::vector<uint8_t> orig(raw.begin(), raw.end());
    // 0: parsed with every tensor inside the buffer, 1: Error thrown, 2: out of bounds.
    const auto tryParse = [](std::vector<uint8_t> bytes) -> int {
        const uint8_t* base = bytes.data();  // moving a vector keeps its heap block
        const size_t size = bytes.size();
        try {
            const auto f = SafetensorsFile::fromBuffer(std::move(bytes), "mutant");
            for (const TensorEntry& t : f->tensors())
                if ((t.nbytes && (t.data < base || t.data + t.nbytes > base + size)) ||
                    t.nbytes != uint64_t(t.numel()) * stDTypeSize(t.dtype)) return 2;
            return 0;
        } catch (const Error&) {
            return 1;
        }
    };
    // Every truncation of a valid file must be rejected: the last tensor no longer fits.
    for (size_t len = 0; len < orig.size(); len += (len < 4096 ? 1 : 97))
        QVERIFY2(tryParse({orig.begin(), orig.begin() + long(len)}) == 1, qPrintable(QString::number(len)));
    // Random byte edits in the length and header: parse or throw Error, never out of bounds.
    // Half the edits write JSON syntax characters, which reach deeper into the validation.
    std::mt19937 rng(20261122);
    std::uniform_int_distribution<size_t> pos(0, size_t(8 + headerLen(raw) - 1));
    std::uniform_int_distribution<int> byte(0, 255), count(1, 4);
    const char syntax[] = "0123456789-[]{},\":e.";
    for (int it = 0; it < 3000; ++it) {
        std::vector<uint8_t> m = orig;
        for (int c = count(rng), b = byte(rng); c > 0; --c, b = byte(rng))
            m[pos(rng)] = uint8_t(b < 128 ? syntax[size_t(b) % (sizeof syntax - 1)] : b);
        QVERIFY2(tryParse(std::move(m)) != 2, qPrintable(QString("iteration %1").arg(it)));
    }
}

void TestSafetensors::sniff() {
    const auto kindOf = [&](const QString& name, const QByteArray& bytes) {
        writeFile(m_tmp.filePath(name), bytes);
        return sniffModelFile(tmp(name));
    };
    // torch.save's zip container, and its legacy pickle stream (protocol 2, then LONG1 of
    // torch.serialization's MAGIC_NUMBER 0x1950a86a20f9469cfc6c); magic beats the extension.
    QCOMPARE(kindOf("ckpt.pt", QByteArray("PK\x03\x04\x14\0\0\0", 8)), FileKind::PyTorchZip);
    QCOMPARE(kindOf("pytorch_model.bin", QByteArray("PK\x03\x04", 4) + QByteArray(60, 'z')), FileKind::PyTorchZip);
    QCOMPARE(kindOf("legacy.bin", QByteArray("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15)),
             FileKind::PyTorchPickle);
    QCOMPARE(kindOf("two.pkl", QByteArray("\x80\x02", 2)), FileKind::PyTorchPickle);
    QCOMPARE(kindOf("proto4.pth", QByteArray("\x80\x04\x95\x10\0\0\0\0\0\0\0", 11)), FileKind::PyTorchPickle);
    QCOMPARE(kindOf("model.gguf", QByteArray("GGUF\x03\0\0\0", 8)), FileKind::GGUF);
    // llama2.c: seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab, seq_len).
    const auto l2c = [](quint32 dim) {
        QByteArray b = le64(dim).left(4);
        for (quint32 v : {172u, 5u, 8u, 4u, 512u, 512u}) b += le64(v).left(4);
        return b;
    };
    QCOMPARE(kindOf("stories.bin", l2c(64)), FileKind::Llama2c);
    QCOMPARE(kindOf("dim640.bin", l2c(640)), FileKind::Llama2c);  // starts 80 02 00 00
    QCOMPARE(kindOf("notes.txt", "hello"), FileKind::Unknown);
    QCOMPARE(kindOf("empty.bin", ""), FileKind::Llama2c);
    // A safetensors header of 0x280 bytes also begins 80 02: the '{' at byte 8 decides.
    QByteArray hdr = obj(entry("t", "\"U8\"", "[1]", "[0,1]"));
    hdr.append(QByteArray(0x280 - hdr.size(), ' '));
    QCOMPARE(kindOf("padded.bin", stFile(hdr, 1)), FileKind::Safetensors);
    QCOMPARE(SafetensorsFile::open(tmp("padded.bin"))->tensors().size(), size_t(1));

    const auto fixture = [](const QString& rel) {
        return sniffModelFile(testpaths::data("models/" + rel).toStdString());
    };
    for (const char* m : {"gpt2", "llama2", "mistral", "qwen3"})
        for (const char* f : {"model.safetensors", "ref.safetensors"})
            QCOMPARE(fixture(QString("%1/%2").arg(m, f)), FileKind::Safetensors);
    QCOMPARE(fixture("llama3/model-00001-of-00004.safetensors"), FileKind::Safetensors);
    QCOMPARE(fixture("llama3/model.safetensors.index.json"), FileKind::SafetensorsIndex);
    QCOMPARE(fixture("llama3/config.json"), FileKind::Unknown);
    QCOMPARE(fixture("llama3"), FileKind::Directory);
    EXPECT_ERROR(sniffModelFile(tmp("absent.bin")), ErrorKind::NotFound, "absent.bin");
    if (!testpaths::stories260K().isEmpty())
        QCOMPARE(sniffModelFile((testpaths::stories260K() + "/stories260K.bin").toStdString()), FileKind::Llama2c);
}

QTEST_APPLESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
