// Session files (.attnscope): bit-exact round trips of every tensor and parameter, every
// codec against the struct it came from, crash-safe saves (a write that fails, a writer
// killed mid-write), hand-crafted corrupt and hostile files, migration, fingerprints
// (SHA-256 against FIPS 180-4 vectors). Qt Core only: no widgets.
#include "attnscope/error.h"
#include "attnscope/session.h"
#include "attnscope/session_codecs.h"

#include <QtTest>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

using namespace attnscope;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
void writeBytes(const std::string& path, const std::vector<uint8_t>& b) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// Empty when f throws an attnscope::Error whose message contains `needle`.
QString expectError(const std::function<void()>& f, const std::string& needle) {
    try {
        f();
    } catch (const Error& e) {
        if (std::string(e.what()).find(needle) == std::string::npos)
            return QStringLiteral("message lacks '%1': %2").arg(QString::fromStdString(needle), e.what());
        return {};
    } catch (const std::exception& e) {
        return QStringLiteral("non-Error exception: %1").arg(e.what());
    }
    return QStringLiteral("no exception");
}

std::mt19937 rng(1234);
std::vector<float> randomFloats(size_t n) {
    std::normal_distribution<float> d;
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// A session with every field set and tensors of every dtype, with awkward values (NaN
// payloads, -0, denormals, infinities) that only a byte-exact path preserves.
Session sampleSession() {
    Session s;
    s.appVersion = "0.1.0";
    s.created = "2026-11-22T10:00:00Z";
    s.model = {"/models/x", "/models/tok.bin", "llama", std::string(64, 'a'), "cuda", "bf16", 600};
    s.prompt = "Call me Ishmael. \xc3\xa9\xe2\x80\x94 \"quoted\"\n";
    s.tokenIds = {1, 4021, 88, 0, 2147483647};
    s.tokenPieces = {"<s>", "Call", " me", "\xc3\xa9", ""};
    s.view.layer = 3;
    s.view.head = -1;
    s.view.token = 2;
    s.view.zoom = 2.5;
    s.view.range = {0.5, 10.25, -0.5, 7};
    s.view.openPanels = {"attention", "sinks"};
    s.view.currentPanel = "sinks";
    s.view.extra = {{"theme", "dark"}};
    SessionSection a;
    a.params = {{"epsilon", 0.3}, {"list", {1, 2, 3}}, {"nested", {{"x", "y"}}}, {"flag", true}};
    std::vector<float> f = randomFloats(24);
    uint32_t nanPayload = 0x7fc01234, negZero = 0x80000000, denorm = 0x00000001;
    std::memcpy(&f[0], &nanPayload, 4);
    std::memcpy(&f[1], &negZero, 4);
    std::memcpy(&f[2], &denorm, 4);
    f[3] = std::numeric_limits<float>::infinity();
    a.tensors["f32"] = SessionTensor::f32({2, 3, 4}, f);
    a.tensors["f64"] = SessionTensor::f64({3}, {1e-300, -0.0, 1.0 / 3.0});
    a.tensors["i32"] = SessionTensor::i32({2}, {-7, INT32_MIN});
    a.tensors["i64"] = SessionTensor::i64({2, 1}, {INT64_MAX, -1});
    a.tensors["u8"] = SessionTensor::u8({4}, {0, 1, 254, 255});
    a.tensors["empty"] = SessionTensor::f32({0, 5}, {});
    s.panels["alpha"] = a;
    SessionSection b;
    b.tensors["x.y-z"] = SessionTensor::f32({1}, {42.f});
    s.panels["beta.2"] = b;
    s.panels["gamma"] = SessionSection{};  // params only
    return s;
}

void compareSessions(const Session& x, const Session& y) {
    QCOMPARE(y.schemaVersion, x.schemaVersion);
    QCOMPARE(y.appVersion, x.appVersion);
    QCOMPARE(y.created, x.created);
    QCOMPARE(y.model.path, x.model.path);
    QCOMPARE(y.model.tokenizer, x.model.tokenizer);
    QCOMPARE(y.model.family, x.model.family);
    QCOMPARE(y.model.sha256, x.model.sha256);
    QCOMPARE(y.model.device, x.model.device);
    QCOMPARE(y.model.dtype, x.model.dtype);
    QCOMPARE(y.model.step, x.model.step);
    QCOMPARE(y.prompt, x.prompt);
    QVERIFY(y.tokenIds == x.tokenIds);
    QVERIFY(y.tokenPieces == x.tokenPieces);
    QCOMPARE(y.view.layer, x.view.layer);
    QCOMPARE(y.view.head, x.view.head);
    QCOMPARE(y.view.token, x.view.token);
    QCOMPARE(y.view.zoom, x.view.zoom);
    QVERIFY(y.view.range == x.view.range);
    QVERIFY(y.view.openPanels == x.view.openPanels);
    QCOMPARE(y.view.currentPanel, x.view.currentPanel);
    QVERIFY(y.view.extra == x.view.extra);
    QCOMPARE(y.panels.size(), x.panels.size());
    for (const auto& [id, sec] : x.panels) {
        QVERIFY2(y.panels.count(id), id.c_str());
        const SessionSection& t = y.panels.at(id);
        QVERIFY2(t.params == sec.params || (sec.params.empty() && t.params.empty()), id.c_str());
        QCOMPARE(t.tensors.size(), sec.tensors.size());
        for (const auto& [name, ten] : sec.tensors) {
            QVERIFY2(t.tensors.count(name), name.c_str());
            const SessionTensor& u = t.tensors.at(name);
            QVERIFY(u.type == ten.type);
            QVERIFY(u.shape == ten.shape);
            QVERIFY2(u.bytes == ten.bytes, name.c_str());  // bit-exact
        }
    }
}

// A raw safetensors file from a header object and data bytes (hand-crafted, not our writer).
std::vector<uint8_t> rawFile(const json& header, size_t dataBytes) {
    std::string h = header.dump();
    std::vector<uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(uint64_t(h.size()) >> (8 * i));
    out.insert(out.end(), h.begin(), h.end());
    out.resize(out.size() + dataBytes, 0);
    return out;
}

json minimalManifest() {
    return {{"schema_version", 1},
            {"app", {{"name", "AttnScope"}, {"version", "0.1.0"}}},
            {"created", "2026-01-01T00:00:00Z"},
            {"model", {{"path", "/m"}, {"family", "llama"}, {"sha256", "00"}}},
            {"prompt", {{"text", "hi"}, {"token_ids", {1, 2}}}},
            {"view", json::object()},
            {"panels", {{"p", {{"params", json::object()}, {"tensors", {{"t", {{"dtype", "F32"}, {"shape", {2}}}}}}}}}}};
}
// A session file with one tensor p/t F32 [2], with the manifest (and tensor entry) given.
std::vector<uint8_t> craft(const json& manifest, json tensorEntry = json(), size_t dataBytes = 8) {
    if (tensorEntry.is_null()) tensorEntry = {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}};
    json header = {{"__metadata__", {{"format", "attnscope-session"}, {"attnscope.manifest", manifest.dump()}}}};
    if (!tensorEntry.empty()) header["p/t"] = tensorEntry;
    return rawFile(header, dataBytes);
}

SinkResult sampleSinkResult(int64_t T, int L) {
    SinkResult r;
    r.T = T;
    r.nLayers = L;
    r.source = SinkSource::Attention;
    r.rule = SinkRule::Relative;
    r.primary = 1;
    r.onset = 1;
    r.offset = L - 1;
    r.primaryNorm = randomFloats(size_t(L));
    for (int l = 0; l < L; ++l) {
        SinkLayer x;
        x.sinkScore = randomFloats(size_t(T));
        x.fracHeads = randomFloats(size_t(T));
        x.hiddenNorm = randomFloats(size_t(T));
        x.cosToPrimary = randomFloats(size_t(T));
        x.massive.assign(size_t(T), uint8_t(l % 2));
        x.flagged.assign(size_t(T), uint8_t(1 - l % 2));
        x.primaryStrength = 0.5f + float(l);
        x.weakening = 0.1f * float(l);
        x.secondaryCreated = l;
        r.layers.push_back(x);  // no MLP arrays: stored as [L, 0]
    }
    r.sinks = {{1, 77, SinkClass::Primary, {1, 2, 3}, 3, 1, 0.8f, 3, 2.5f, 0.9f},
               {4, 12, SinkClass::Secondary, {2}, 1, 2, 0.2f, 1, 0.f, 0.f}};
    r.levels = {{1, 3, 1, 0.8f, SinkClass::Primary, {1}}, {2, 1, 2, 0.2f, SinkClass::Noise, {4, 5}}};
    r.scoreVsMlpNorm = {1.5, -0.25, 0.75, 4};
    r.lifetimeVsMlpNorm = {0, 0, 0, 0};
    r.weakeningVsCreations = -0.5;
    return r;
}

}  // namespace

class TestSession : public QObject {
    Q_OBJECT
private slots:
    void sha256Vectors();
    void roundTripBitExact();
    void roundTripCodecs();
    void manifestIsReadableJson();
    void corruptFiles_data();
    void corruptFiles();
    void truncatedFiles();
    void invalidSessionsAreNotWritten();
    void failingWriteKeepsPreviousFile();
    void killedWriterKeepsPreviousFile();
    void migration();
    void modelFingerprint();
};

void TestSession::sha256Vectors() {
    // FIPS 180-4 / NIST CAVP examples.
    QCOMPARE(sha256Hex("", 0), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(sha256Hex("abc", 3), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char* two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";  // 56 bytes: padding spills
    QCOMPARE(sha256Hex(two, std::strlen(two)),
             std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    std::string million(1000000, 'a');
    QCOMPARE(sha256Hex(million.data(), million.size()),
             std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

void TestSession::roundTripBitExact() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("a.attnscope").toStdString();
    Session s = sampleSession();
    saveSession(path, s);
    compareSessions(s, loadSession(path));
    compareSessions(s, loadSessionFromBuffer(readBytes(path), "buffer"));
    // Saving what was loaded writes the same bytes (stable order, nothing lost or added).
    const std::string again = dir.filePath("b.attnscope").toStdString();
    saveSession(again, loadSession(path));
    QVERIFY(readBytes(again) == readBytes(path));
}

void TestSession::roundTripCodecs() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("c.attnscope").toStdString();
    Session s;
    s.tokenIds = {1, 5, 9, 2, 7, 3};
    const int64_t T = 6;
    const int L = 4, H = 2;

    AttentionSection att;
    att.layer = 2, att.head = -1, att.colormap = "magma", att.scale = "log";
    for (int l = 0; l < 2; ++l)
        for (int h = -1; h < 1; ++h)
            att.maps.push_back({l, h, 0, T, 0, T, Matrix2D{T, T, randomFloats(size_t(T * T))}});
    s.panels["attention"] = encodeAttention(att);

    HeadScoresSection hs{L, H, T, 5, "previous_token", randomFloats(8), randomFloats(8), randomFloats(8), randomFloats(8)};
    s.panels["heads"] = encodeHeadScores(hs);

    SinksSection sk;
    sk.params.epsilon = 0.25;
    sk.params.bosCandidates = {0, 1, 2};
    sk.params.source = SinkSource::Hidden;
    sk.params.sinkClipper = false;
    sk.quantity = "frac";
    sk.result = sampleSinkResult(T, L);
    sk.hasInputs = true;
    SinkInputs& in = sk.inputs;
    in.T = T, in.nLayers = L, in.nHeads = H, in.minQueryPos = 2, in.ids = s.tokenIds;
    in.headAlpha = randomFloats(size_t(L * H * T));
    in.sinkScore = randomFloats(size_t(L * T));
    in.scoreMedian = randomFloats(size_t(L));
    in.references = {0, 1};
    in.hiddenNorm = randomFloats(size_t(L * T));
    in.hiddenMaxAbs = randomFloats(size_t(L * T));
    in.hiddenMedianAbs = randomFloats(size_t(L));
    in.hiddenCos = randomFloats(size_t(2 * L * T));
    s.panels["sinks"] = encodeSinks(sk);

    WeibullSection wb;
    wb.params.protocol = WeibullProtocol::Hist;
    wb.params.trim = WeibullTrim::Full;
    wb.params.subsample = 4000000;
    wb.params.seed = 7;
    wb.selected = "model.layers.0.mlp.down_proj.weight";
    for (int i = 0; i < 3; ++i) {
        WeibullMatrixFit f;
        f.name = "m" + std::to_string(i);
        f.layer = i - 1;
        f.component = i ? "q" : "embed";
        f.shape = i == 2 ? std::vector<int64_t>{17} : std::vector<int64_t>{64, 32 + i};
        f.fit.ok = i != 1;
        f.fit.protocol = WeibullProtocol::Hist;
        f.fit.trim = WeibullTrim::Full;
        f.fit.reason = i == 1 ? "too few values" : "";
        f.fit.k = 1.2 + i, f.fit.lambda = 0.01 * i, f.fit.r2 = 0.99, f.fit.ks = 0.01;
        f.fit.nValues = 2048 + i, f.fit.nFit = 1000, f.fit.nDropped = uint64_t(i);
        f.fit.sdK = 0.03, f.fit.cls = "transmission", f.fit.driftPct = 3.5, f.fit.drift = "mild";
        f.fit.lowR2 = i == 2;
        f.fit.distFree = {1.5, 2.5, 3.5, 0.4, 0.02};
        f.fit.windowLnLo = -5, f.fit.windowLnHi = -1;
        wb.fits.push_back(f);
    }
    wb.hasPlot = true;
    wb.plot.lnAbs = {-3, -2, -1};
    wb.plot.y = {-2, 0, 1};
    wb.plot.log10Counts.assign(1024, 0.5);
    s.panels["weibull"] = encodeWeibull(wb);

    saveSession(path, s);
    const Session back = loadSession(path);

    AttentionSection a2 = decodeAttention(back.panels.at("attention"));
    QCOMPARE(a2.layer, 2);
    QCOMPARE(a2.head, -1);
    QCOMPARE(a2.colormap, std::string("magma"));
    QCOMPARE(a2.maps.size(), att.maps.size());
    for (size_t i = 0; i < att.maps.size(); ++i) {
        QCOMPARE(a2.maps[i].layer, att.maps[i].layer);
        QCOMPARE(a2.maps[i].head, att.maps[i].head);
        QCOMPARE(a2.maps[i].q1, T);
        QVERIFY(a2.maps[i].matrix.data == att.maps[i].matrix.data);
    }
    QVERIFY(a2.find(1, -1) && a2.find(1, -1)->matrix.data == att.maps[2].matrix.data);

    HeadScoresSection h2 = decodeHeadScores(back.panels.at("heads"));
    QCOMPARE(h2.nLayers, L);
    QCOMPARE(h2.nHeads, H);
    QCOMPARE(h2.sampledRows, int64_t(5));
    QCOMPARE(h2.score, std::string("previous_token"));
    QVERIFY(h2.entropy == hs.entropy && h2.diagonal == hs.diagonal && h2.previousToken == hs.previousToken &&
            h2.firstToken == hs.firstToken);

    SinksSection k2 = decodeSinks(back.panels.at("sinks"), back.tokenIds);
    QCOMPARE(k2.params.epsilon, 0.25);
    QVERIFY(k2.params.bosCandidates == sk.params.bosCandidates);
    QVERIFY(k2.params.source == SinkSource::Hidden);
    QCOMPARE(k2.params.sinkClipper, false);
    QCOMPARE(k2.quantity, std::string("frac"));
    const SinkResult& r = sk.result;
    const SinkResult& r2 = k2.result;
    QCOMPARE(r2.T, r.T);
    QVERIFY(r2.source == r.source && r2.rule == r.rule);
    QCOMPARE(r2.primary, r.primary);
    QCOMPARE(r2.offset, r.offset);
    QVERIFY(r2.primaryNorm == r.primaryNorm);
    QCOMPARE(r2.layers.size(), r.layers.size());
    for (size_t l = 0; l < r.layers.size(); ++l) {
        QVERIFY(r2.layers[l].sinkScore == r.layers[l].sinkScore);
        QVERIFY(r2.layers[l].cosToPrimary == r.layers[l].cosToPrimary);
        QVERIFY(r2.layers[l].mlpNorm.empty());
        QVERIFY(r2.layers[l].massive == r.layers[l].massive);
        QVERIFY(r2.layers[l].flagged == r.layers[l].flagged);
        QCOMPARE(r2.layers[l].weakening, r.layers[l].weakening);
        QCOMPARE(r2.layers[l].secondaryCreated, r.layers[l].secondaryCreated);
    }
    QCOMPARE(r2.sinks.size(), size_t(2));
    QVERIFY(r2.sinks[0].layers == r.sinks[0].layers && r2.sinks[1].layers == r.sinks[1].layers);
    QVERIFY(r2.sinks[1].cls == SinkClass::Secondary);
    QCOMPARE(r2.sinks[0].mlpNormAtCreation, 2.5f);
    QCOMPARE(r2.levels.size(), size_t(2));
    QVERIFY(r2.levels[1].tokens == r.levels[1].tokens);
    QCOMPARE(r2.scoreVsMlpNorm.intercept, -0.25);
    QCOMPARE(r2.scoreVsMlpNorm.n, 4);
    QVERIFY(k2.hasInputs);
    QVERIFY(k2.inputs.headAlpha == in.headAlpha && k2.inputs.hiddenCos == in.hiddenCos &&
            k2.inputs.references == in.references && k2.inputs.ids == in.ids);
    QVERIFY(k2.inputs.mlpNorm.empty() && !k2.inputs.hasMlp());

    WeibullSection w2 = decodeWeibull(back.panels.at("weibull"));
    QVERIFY(w2.params.protocol == WeibullProtocol::Hist && w2.params.trim == WeibullTrim::Full);
    QCOMPARE(w2.params.subsample, uint64_t(4000000));
    QCOMPARE(w2.selected, wb.selected);
    QCOMPARE(w2.fits.size(), size_t(3));
    for (size_t i = 0; i < 3; ++i) {
        const auto &x = wb.fits[i], &y = w2.fits[i];
        QCOMPARE(y.name, x.name);
        QCOMPARE(y.layer, x.layer);
        QVERIFY(y.shape == x.shape);
        QCOMPARE(y.fit.ok, x.fit.ok);
        QCOMPARE(y.fit.reason, x.fit.reason);
        QCOMPARE(y.fit.k, x.fit.k);
        QCOMPARE(y.fit.nValues, x.fit.nValues);
        QCOMPARE(y.fit.lowR2, x.fit.lowR2);
        QCOMPARE(y.fit.distFree.gini, x.fit.distFree.gini);
        QCOMPARE(y.fit.windowLnHi, x.fit.windowLnHi);
        QCOMPARE(y.fit.cls, x.fit.cls);
    }
    QVERIFY(w2.hasPlot && w2.plot.y == wb.plot.y && w2.plot.log10Counts == wb.plot.log10Counts);
}

void TestSession::manifestIsReadableJson() {
    // What the Python example relies on: metadata "attnscope.manifest" is JSON with the
    // schema's keys, tensors are "<panel>/<name>".
    QTemporaryDir dir;
    const std::string path = dir.filePath("m.attnscope").toStdString();
    saveSession(path, sampleSession());
    auto bytes = readBytes(path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[size_t(i)];
    json header = json::parse(std::string(bytes.begin() + 8, bytes.begin() + 8 + int64_t(n)));
    QCOMPARE(header["__metadata__"]["format"].get<std::string>(), std::string("attnscope-session"));
    json m = json::parse(header["__metadata__"]["attnscope.manifest"].get<std::string>());
    QCOMPARE(m["schema_version"].get<int>(), 1);
    QCOMPARE(m["prompt"]["token_ids"][1].get<int>(), 4021);
    QCOMPARE(m["panels"]["alpha"]["tensors"]["f32"]["shape"], json({2, 3, 4}));
    QCOMPARE(header["alpha/f32"]["dtype"].get<std::string>(), std::string("F32"));
}

void TestSession::corruptFiles_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("needle");
    auto add = [](const char* name, const std::vector<uint8_t>& b, const char* needle) {
        QTest::newRow(name) << QByteArray(reinterpret_cast<const char*>(b.data()), qsizetype(b.size())) << needle;
    };
    const json m = minimalManifest();
    auto with = [&](const std::function<void(json&)>& edit) {
        json x = m;
        edit(x);
        return x;
    };
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
    add("schema version missing", craft(with([](json& x) { x.erase("schema_version"); })), "schema_version");
    add("schema version a string", craft(with([](json& x) { x["schema_version"] = "1"; })), "schema_version");
    add("schema version newer", craft(with([](json& x) { x["schema_version"] = 99; })), "newer than this AttnScope");
    add("schema version zero", craft(with([](json& x) { x["schema_version"] = 0; })), "invalid");
    add("model missing", craft(with([](json& x) { x.erase("model"); })), "lacks \"model\"");
    add("model path a number", craft(with([](json& x) { x["model"]["path"] = 5; })), "model.path must be a string");
    add("prompt ids not array", craft(with([](json& x) { x["prompt"]["token_ids"] = "1,2"; })), "token_ids must be an array");
    add("negative token id", craft(with([](json& x) { x["prompt"]["token_ids"] = {1, -2}; })), "not a token id");
    add("pieces length", craft(with([](json& x) { x["prompt"]["pieces"] = {"a"}; })), "as long as token_ids");
    add("view layer a string", craft(with([](json& x) { x["view"]["layer"] = "3"; })), "view.layer must be an integer");
    add("view head out of range", craft(with([](json& x) { x["view"]["head"] = -5; })), "out of range");
    add("view range of 3", craft(with([](json& x) { x["view"]["range"] = {1, 2, 3}; })), "view.range");
    add("panels not object", craft(with([](json& x) { x["panels"] = json::array(); })), "panels must be an object");
    add("panel params missing", craft(with([](json& x) { x["panels"]["p"].erase("params"); })), "lacks \"params\"");
    add("listed tensor missing", craft(m, json::object(), 0), "listed in the manifest but missing");
    add("unlisted tensor", craft(with([](json& x) { x["panels"]["p"]["tensors"] = json::object(); })),
        "not listed in the manifest");
    add("dtype differs from manifest",
        craft(with([](json& x) { x["panels"]["p"]["tensors"]["t"]["dtype"] = "I32"; })), "but the manifest says");
    add("shape differs from manifest",
        craft(with([](json& x) { x["panels"]["p"]["tensors"]["t"]["shape"] = {1, 2}; })), "but the manifest says");
    add("unsupported dtype", craft(m, {{"dtype", "F16"}, {"shape", {4}}, {"data_offsets", {0, 8}}}),
        "sessions hold F32/F64/I32/I64/U8");
    {
        json h = {{"__metadata__", {{"format", "attnscope-session"}, {"attnscope.manifest", m.dump()}}},
                  {"no_slash", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}}};
        add("tensor name without panel", rawFile(h, 8), "is not <panel>/<name>");
    }
}

void TestSession::corruptFiles() {
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

void TestSession::truncatedFiles() {
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

void TestSession::invalidSessionsAreNotWritten() {
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

void TestSession::failingWriteKeepsPreviousFile() {
    // The write fails part-way (a file size limit: EFBIG on the write, as on a full disk).
    QTemporaryDir dir;
    const std::string path = dir.filePath("f.attnscope").toStdString();
    Session old = sampleSession();
    saveSession(path, old);
    const auto before = readBytes(path);
    Session big = sampleSession();
    big.panels["alpha"].tensors["big"] = SessionTensor::f32({1 << 20}, std::vector<float>(1 << 20, 1.f));
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
    QVERIFY(readBytes(path) == before);
    compareSessions(old, loadSession(path));
    int files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path().toStdString())) ++files;
    QCOMPARE(files, 1);  // the temp file was removed
}

void TestSession::killedWriterKeepsPreviousFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("k.attnscope").toStdString();
    Session old = sampleSession();
    saveSession(path, old);
    const auto before = readBytes(path);
    // A child saves a large session over and over; it is SIGKILLed once its temp file exists.
    pid_t pid = fork();
    if (pid == 0) {
        Session big = sampleSession();
        big.panels["alpha"].tensors["big"] = SessionTensor::f32({64 << 20}, std::vector<float>(64 << 20, 2.f));
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
    if (after == before) {
        compareSessions(old, loadSession(path));
    } else {
        Session s = loadSession(path);
        QCOMPARE(s.panels.at("alpha").tensors.at("big").numel(), int64_t(64) << 20);
    }
}

void TestSession::migration() {
    // Steps run in order from the file's version; each sees the previous one's result.
    registerSessionMigration(1, [](json& m, std::map<std::string, SessionTensor>& t) {
        m["renamed_prompt"] = m["prompt"];
        m.erase("prompt");
        t["p/u"] = t.at("p/t");
        t.erase("p/t");
    });
    registerSessionMigration(2, [](json& m, std::map<std::string, SessionTensor>&) {
        m["steps"] = json::array({"2->3"});
        QVERIFY(m.contains("renamed_prompt"));
    });
    json manifest = minimalManifest();
    std::map<std::string, SessionTensor> tensors = {{"p/t", SessionTensor::f32({2}, {1.f, 2.f})}};
    migrateSessionManifest(manifest, tensors, 3, "mig");
    QCOMPARE(manifest["schema_version"].get<int>(), 3);
    QVERIFY(manifest.contains("renamed_prompt") && !manifest.contains("prompt"));
    QCOMPARE(manifest["steps"], json::array({"2->3"}));
    QVERIFY(tensors.count("p/u") && !tensors.count("p/t"));
    // No step from 3 to 4: a clear error.
    QVERIFY(expectError([&] { migrateSessionManifest(manifest, tensors, 4, "mig"); }, "no migration from schema version 3").isEmpty());
    // Current files load unchanged (no step runs for version 1 → 1).
    QTemporaryDir dir;
    const std::string path = dir.filePath("m.attnscope").toStdString();
    const Session current = sampleSession();
    saveSession(path, current);
    compareSessions(current, loadSession(path));
}

void TestSession::modelFingerprint() {
    QTemporaryDir dir;
    const fs::path m = dir.path().toStdString() + "/model";
    fs::create_directories(m);
    writeBytes((m / "config.json").string(), {'{', '}'});
    json header = {{"w", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}}};
    writeBytes((m / "model.safetensors").string(), rawFile(header, 8));
    SessionModelRef ref;
    ref.path = m.string();
    ref.sha256 = sessionModelFingerprint(ref.path);
    QCOMPARE(ref.sha256.size(), size_t(64));
    QVERIFY(checkSessionModel(ref) == SessionModelMatch::Match);
    // Weight values are not hashed (only the header): same fingerprint.
    auto st = rawFile(header, 8);
    st.back() = 0x3f;
    writeBytes((m / "model.safetensors").string(), st);
    QVERIFY(checkSessionModel(ref) == SessionModelMatch::Match);
    // Another config: a mismatch, with the hash found.
    writeBytes((m / "config.json").string(), {'{', ' ', '}'});
    std::string found;
    QVERIFY(checkSessionModel(ref, &found) == SessionModelMatch::Mismatch);
    QVERIFY(found != ref.sha256 && found.size() == 64);
    // Another tensor shape: a mismatch too.
    writeBytes((m / "config.json").string(), {'{', '}'});
    header["w"]["shape"] = {1, 2};
    writeBytes((m / "model.safetensors").string(), rawFile(header, 8));
    QVERIFY(checkSessionModel(ref) == SessionModelMatch::Mismatch);
    fs::remove_all(m);
    QVERIFY(checkSessionModel(ref) == SessionModelMatch::Absent);
    QVERIFY(expectError([&] { sessionModelFingerprint(m.string()); }, "no such model").isEmpty());
}

QTEST_GUILESS_MAIN(TestSession)
#include "tst_session.moc"
