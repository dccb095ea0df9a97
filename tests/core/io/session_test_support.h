// Shared by the session tests: byte I/O, error expectations, a session with every field and
// awkward float bit patterns, a field-by-field comparison, and hand-crafted raw files.
#pragma once
#include "attnscope/error.h"
#include "attnscope/session.h"
#include "attnscope/session_codecs.h"

#include <QtTest>

#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <random>

namespace sessiontest {

using namespace attnscope;
using nlohmann::json;

inline std::vector<uint8_t> readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
inline void writeBytes(const std::string& path, const std::vector<uint8_t>& b) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// Empty when f throws an attnscope::Error whose message contains `needle`.
inline QString expectError(const std::function<void()>& f, const std::string& needle) {
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

inline std::mt19937 rng(1234);
inline std::vector<float> randomFloats(size_t n) {
    std::normal_distribution<float> d;
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// A session with every field set and tensors of every dtype, with awkward values (NaN
// payloads, -0, denormals, infinities) that only a byte-exact path preserves.
inline Session sampleSession() {
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

inline void compareSessions(const Session& x, const Session& y) {
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
inline std::vector<uint8_t> rawFile(const json& header, size_t dataBytes) {
    std::string h = header.dump();
    std::vector<uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(uint64_t(h.size()) >> (8 * i));
    out.insert(out.end(), h.begin(), h.end());
    out.resize(out.size() + dataBytes, 0);
    return out;
}

inline json minimalManifest() {
    return {{"schema_version", 1},
            {"app", {{"name", "AttnScope"}, {"version", "0.1.0"}}},
            {"created", "2026-01-01T00:00:00Z"},
            {"model", {{"path", "/m"}, {"family", "llama"}, {"sha256", "00"}}},
            {"prompt", {{"text", "hi"}, {"token_ids", {1, 2}}}},
            {"view", json::object()},
            {"panels", {{"p", {{"params", json::object()}, {"tensors", {{"t", {{"dtype", "F32"}, {"shape", {2}}}}}}}}}}};
}
// A session file with one tensor p/t F32 [2], with the manifest (and tensor entry) given.
inline std::vector<uint8_t> craft(const json& manifest, json tensorEntry = json(), size_t dataBytes = 8) {
    if (tensorEntry.is_null()) tensorEntry = {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}};
    json header = {{"__metadata__", {{"format", "attnscope-session"}, {"attnscope.manifest", manifest.dump()}}}};
    if (!tensorEntry.empty()) header["p/t"] = tensorEntry;
    return rawFile(header, dataBytes);
}

inline SinkResult sampleSinkResult(int64_t T, int L) {
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

}  // namespace sessiontest
