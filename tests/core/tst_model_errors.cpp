// Bad input to Model::open / run: each case is a typed attnscope::Error with a message
// that names the problem, never a crash.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <stop_token>

#include "attnscope/error.h"
#include "attnscope/model.h"
#include "io/safetensors.h"
#include "test_models.h"
#include "test_paths.h"

using namespace attnscope;
using testmodels::openPath;
namespace fs = std::filesystem;

namespace {

// Expects f() to throw Error of `kind` whose message contains `needle`.
template <class F>
bool throwsKind(F&& f, ErrorKind kind, const std::string& needle, std::string* why) {
    try {
        f();
    } catch (const Error& e) {
        if (e.kind() == kind && std::string(e.what()).find(needle) != std::string::npos) return true;
        *why = std::string(errorKindName(e.kind())) + ": " + e.what();
        return false;
    } catch (const std::exception& e) {
        *why = std::string("foreign exception: ") + e.what();
        return false;
    }
    *why = "no exception";
    return false;
}

#define EXPECT_ERROR(expr, kind, needle)                                            \
    do {                                                                            \
        std::string why_;                                                           \
        QVERIFY2(throwsKind([&] { expr; }, kind, needle, &why_), why_.c_str());    \
    } while (0)

std::vector<io::NamedBuffer> fixtureTensors(const std::string& path) {
    auto f = io::SafetensorsFile::open(path);
    std::vector<io::NamedBuffer> out;
    for (const auto& e : f->tensors())
        out.push_back({e.name, e.dtype, e.shape, std::vector<uint8_t>(e.data, e.data + e.nbytes)});
    return out;
}

void writeText(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

}  // namespace

class TestModelErrors : public QObject {
    Q_OBJECT
private slots:
    void init() { QVERIFY(m_dir.isValid()); }
    void missingPath() { EXPECT_ERROR(openPath("/nonexistent/model"), ErrorKind::NotFound, "/nonexistent/model"); }
    void unknownArchitecture();
    void malformedConfig();
    void absurdConfig();
    void missingTensor();
    void wrongShape();
    void pickleRefused();
    void truncatedLlama2c();
    void promptTooLong();
    void tokenOutOfRange();
    void cancelledRun();

private:
    fs::path modelCopy(const char* family, const std::string& name) {
        fs::path d = fs::path(m_dir.path().toStdString()) / name;
        fs::create_directories(d);
        const fs::path src = testpaths::data(QString("models/") + family).toStdString();
        fs::copy_file(src / "config.json", d / "config.json");
        fs::copy_file(src / "model.safetensors", d / "model.safetensors");
        return d;
    }
    QTemporaryDir m_dir;
};

void TestModelErrors::unknownArchitecture() {
    const fs::path d = modelCopy("llama2", "unknown");
    std::ifstream in(d / "config.json");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    s.replace(s.find("\"llama\""), 7, "\"nosuch\"");
    writeText(d / "config.json", s);
    EXPECT_ERROR(openPath(d.string()), ErrorKind::Unsupported, "unknown architecture 'nosuch'");
}

void TestModelErrors::malformedConfig() {
    const fs::path d = modelCopy("llama2", "malformed");
    writeText(d / "config.json", "{\"model_type\": \"llama\", \"hidden_size\": ");
    EXPECT_ERROR(openPath(d.string()), ErrorKind::BadInput, "malformed JSON");
    writeText(d / "config.json", "{\"model_type\": \"llama\", \"hidden_size\": \"big\"}");
    EXPECT_ERROR(openPath(d.string()), ErrorKind::BadInput, "config.json");
}

void TestModelErrors::absurdConfig() {
    const fs::path d = modelCopy("llama2", "absurd");
    writeText(d / "config.json",
              R"({"model_type":"llama","hidden_size":32,"intermediate_size":64,"num_hidden_layers":1000000,
                  "num_attention_heads":4,"vocab_size":256,"max_position_embeddings":256})");
    EXPECT_ERROR(openPath(d.string()), ErrorKind::BadInput, "num_hidden_layers");
    writeText(d / "config.json",
              R"({"model_type":"llama","hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,
                  "num_attention_heads":4,"num_key_value_heads":3,"vocab_size":256})");
    EXPECT_ERROR(openPath(d.string()), ErrorKind::BadInput, "num_key_value_heads");
}

void TestModelErrors::missingTensor() {
    const fs::path d = modelCopy("llama2", "missing");
    auto t = fixtureTensors((d / "model.safetensors").string());
    t.erase(std::remove_if(t.begin(), t.end(), [](auto& b) { return b.name == "model.layers.1.mlp.up_proj.weight"; }), t.end());
    io::writeSafetensors((d / "model.safetensors").string(), t, {});
    EXPECT_ERROR(openPath(d.string()), ErrorKind::NotFound, "model.layers.1.mlp.up_proj.weight");
}

void TestModelErrors::wrongShape() {
    const fs::path d = modelCopy("llama2", "shape");
    auto t = fixtureTensors((d / "model.safetensors").string());
    for (auto& b : t)
        if (b.name == "model.layers.0.self_attn.k_proj.weight") b.shape = {16, 64};  // same bytes, wrong shape
    io::writeSafetensors((d / "model.safetensors").string(), t, {});
    EXPECT_ERROR(openPath(d.string()), ErrorKind::BadInput, "model.layers.0.self_attn.k_proj.weight");
}

void TestModelErrors::pickleRefused() {
    const fs::path d = fs::path(m_dir.path().toStdString()) / "pickle";
    fs::create_directories(d);
    writeText(d / "pytorch_model.bin", std::string("PK\x03\x04", 4) + "archive/data.pkl");
    EXPECT_ERROR(openPath(d.string()), ErrorKind::Unsupported, "pickle");
    EXPECT_ERROR(openPath((d / "pytorch_model.bin").string()), ErrorKind::Unsupported, "pickle");
    writeText(d / "model.pt", std::string("\x80\x02}q\x00.", 6));
    EXPECT_ERROR(openPath((d / "model.pt").string()), ErrorKind::Unsupported, "pickle");
}

void TestModelErrors::truncatedLlama2c() {
    const fs::path p = fs::path(m_dir.path().toStdString()) / "tiny.bin";
    const int32_t header[7] = {64, 172, 5, 8, 4, 512, 512};
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(header), sizeof header);
    EXPECT_ERROR(openPath(p.string()), ErrorKind::BadInput, "header implies");
    const int32_t hostile[7] = {-5, 1 << 30, 5, 8, 3, 512, 512};
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(hostile), sizeof hostile);
    EXPECT_ERROR(openPath(p.string()), ErrorKind::BadInput, "implausible header");
}

void TestModelErrors::promptTooLong() {
    auto m = testmodels::openFixture("gpt2");  // n_positions = 64
    std::vector<int32_t> ids(65, 7);
    EXPECT_ERROR(m->run(ids), ErrorKind::BadInput, "longer than the model's context of 64");
    EXPECT_ERROR(m->generate(std::vector<int32_t>(60, 7), 10, false), ErrorKind::BadInput, "context of 64");
    EXPECT_ERROR(m->run({}), ErrorKind::BadInput, "empty");
    // The model stays usable after a rejected prompt.
    QCOMPARE(m->run(std::vector<int32_t>(64, 7))->length(), 64LL);
}

void TestModelErrors::tokenOutOfRange() {
    auto m = testmodels::openFixture("gpt2");
    EXPECT_ERROR(m->run({1, 256}), ErrorKind::BadInput, "outside the vocabulary");
    EXPECT_ERROR(m->run({-1}), ErrorKind::BadInput, "outside the vocabulary");
}

void TestModelErrors::cancelledRun() {
    auto m = testmodels::openFixture("llama3");
    std::stop_source src;
    src.request_stop();
    RunOptions ro;
    ro.job.stop = src.get_token();
    EXPECT_ERROR(m->run({1, 2, 3}, ro), ErrorKind::Cancelled, "cancelled");
    QCOMPARE(m->run({1, 2, 3})->length(), 3LL);
}

QTEST_APPLESS_MAIN(TestModelErrors)
#include "tst_model_errors.moc"
