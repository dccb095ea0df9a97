// Session files (.attnscope): bit-exact round trips of every tensor and parameter, every
// codec against the struct it came from, migration, fingerprints (SHA-256 against FIPS
// 180-4 vectors). Corrupt files and crash-safe saves: tst_session_faults.cpp. Qt Core only.
#include <QtTest>

#include <cstring>
#include <filesystem>
#include <limits>

#include "session_test_support.h"
#include "synthetic_session.h"

using namespace attnscope;
using namespace sessiontest;
using nlohmann::json;
namespace fs = std::filesystem;

class TestSession : public QObject {
    Q_OBJECT
private slots:
    void sha256Vectors();
    void roundTripBitExact();
    void roundTripCodecs();
    void codecKeyOfWrongType_data();
    void codecKeyOfWrongType();
    void manifestIsReadableJson();
    void migration();
    void headsBeforeDetectors();
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

    HeadScoresSection hs = emptyHeadScores(L, H,
                                           {{"entropy", "Entropy", "nats", "help", "", 0},
                                            {"previous_token", "Previous", "mean", "", "previous-token", 0.4},
                                            {"induction_repeated", "Induction", "mean", "", "induction", 0.3}});
    hs.tokens = T;
    hs.sampledRows = 5;
    hs.score = "previous_token";
    hs.values = {randomFloats(8), randomFloats(8), randomFloats(8)};
    hs.values[2][3] = std::numeric_limits<float>::quiet_NaN();  // a detector that does not apply stays NaN
    hs.notes["induction_repeated"] = "50 random tokens twice";
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
    QCOMPARE(h2.infos.size(), size_t(3));
    for (size_t d = 0; d < 3; ++d) {
        QCOMPARE(h2.infos[d].id, hs.infos[d].id);
        QCOMPARE(h2.infos[d].role, hs.infos[d].role);
        QCOMPARE(h2.infos[d].threshold, hs.infos[d].threshold);
        QCOMPARE(std::memcmp(h2.values[d].data(), hs.values[d].data(), hs.values[d].size() * sizeof(float)), 0);
    }
    QCOMPARE(h2.notes, hs.notes);
    QCOMPARE(headRoles(h2), headRoles(hs));

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

void TestSession::codecKeyOfWrongType_data() {
    QTest::addColumn<QString>("panel");
    QTest::addColumn<QString>("pointer");  // into the section's params
    QTest::addColumn<QString>("value");    // JSON text put there
    QTest::addColumn<QString>("needle");   // the message must name the section and the key
    auto row = [](const char* panel, const char* pointer, const char* value, const char* needle) {
        QTest::addRow("%s %s", panel, pointer) << panel << pointer << value << needle;
    };
    row("attention", "/layer", "\"2\"", "attention: 'layer' must be an integer, not \"2\"");
    row("attention", "/colormap", "5", "attention: 'colormap' must be a string, not 5");
    row("heads", "/tokens", "1.5", "heads: 'tokens' must be an integer, not 1.5");
    row("heads", "/sampled_rows", "\"all\"", "heads: 'sampled_rows' must be an integer");
    row("sinks", "/epsilon", "\"0.1\"", "sinks: 'epsilon' must be a number");
    row("sinks", "/quantity", "3", "sinks: 'quantity' must be a string");
    row("sinks", "/bos_candidates/0", "true", "sinks: 'bos_candidates[0]' must be an integer");
    row("sinks", "/result/T", "\"12\"", "sinks: 'result.T' must be an integer");
    row("sinks", "/result/score_vs_mlp_norm", "[1, 2, 3]", "sinks: 'result.score_vs_mlp_norm' must be [slope");
    row("sinks", "/inputs", "[]", "sinks: 'inputs' must be an object, not an array");
    row("weibull", "/seed", "-1", "weibull: 'seed' must be a non-negative integer, not -1");
    row("weibull", "/is_init", "\"yes\"", "weibull: 'is_init' must be a boolean");
    row("weibull", "/protocol", "\"fast\"",
        "weibull: 'protocol' has the unknown value 'fast' (not one of exact, hist)");
    row("weibull", "/matrices/1/cls", "1", "weibull: 'matrices[1].cls' must be a string, not 1");
    row("kv", "/sweep_log", "1", "kv: 'sweep_log' must be a boolean, not 1");
    row("kv", "/sel/tokens", "\"12\"", "kv: 'sel.tokens' must be an integer");
    row("kv", "/params/values/recent", "\"3\"", "kv: 'params.values.recent' must be a number");
    row("kv", "/policies/1/params/0/choices", "\"x\"", "kv: 'policies[1].params[0].choices' must be an array");
    row("kv", "/token_pieces/2", "null", "kv: 'token_pieces[2]' must be a string, not null");
    row("quant", "/bits", "\"3\"", "quant: 'bits' must be an integer");
    row("quant", "/matrices/2/input", "7", "quant: 'matrices[2].input' must be a string, not 7");
    row("quant", "/matrices/2", "\"q\"", "quant: 'matrices[2]' must be an object");
}

void TestSession::codecKeyOfWrongType() {
    QFETCH(QString, panel);
    QFETCH(QString, pointer);
    QFETCH(QString, value);
    QFETCH(QString, needle);
    static const Session session = syntheticSession();
    const std::string id = panel.toStdString();
    SessionSection section = session.panels.at(id);
    auto decode = [&] {
        if (id == "attention") (void)decodeAttention(section);
        if (id == "heads") (void)decodeHeadScores(section);
        if (id == "sinks") (void)decodeSinks(section, session.tokenIds);
        if (id == "weibull") (void)decodeWeibull(section);
        if (id == "kv") (void)decodeKv(section);
        if (id == "quant") (void)decodeQuant(section);
    };
    decode();  // the section as written decodes
    section.params[json::json_pointer(pointer.toStdString())] = json::parse(value.toStdString());
    try {
        decode();
        QFAIL("a key of the wrong type was accepted");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::BadInput);
        QVERIFY2(std::string(e.what()).find(needle.toStdString()) != std::string::npos, e.what());
    }
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

void TestSession::headsBeforeDetectors() {
    // A heads section as sessions wrote it before the head-role detectors: four tensors, no
    // descriptions. It opens as those four detectors with their roles.
    SessionSection old;
    old.params = {{"score", "previous_token"}, {"tokens", 9}, {"sampled_rows", 9}};
    const std::vector<float> e = {1, 2}, f = {.6f, .1f}, p = {.2f, .9f}, d = {.05f, .05f};
    old.tensors["entropy"] = SessionTensor::f32({1, 2}, e);
    old.tensors["first_token"] = SessionTensor::f32({1, 2}, f);
    old.tensors["previous_token"] = SessionTensor::f32({1, 2}, p);
    old.tensors["diagonal"] = SessionTensor::f32({1, 2}, d);
    const HeadScoresSection h = decodeHeadScores(old);
    QCOMPARE(h.infos.size(), size_t(4));
    QCOMPARE(h.score, std::string("previous_token"));
    QCOMPARE(*h.find("first_token"), f);
    QCOMPARE(*h.find("diagonal"), d);
    // first_token 0.6 >= 0.5: a sink; previous_token 0.9 >= 0.4: a previous-token head.
    QCOMPARE(headRoles(h), (std::vector<std::string>{"sink", "previous-token"}));
    old.tensors.erase("diagonal");
    QVERIFY(expectError([&] { (void)decodeHeadScores(old); }, "diagonal").isEmpty());
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
