// config.json -> ModelConfig (core/src/arch/config, torch-free): every fixture family reads
// with its layout, the activation names of transformers' ACT2FN map the same way in every
// family, and an unknown activation is Error(Unsupported) naming the key. Qt Core only.
#include <QtTest>

#include <fstream>
#include <map>
#include <sstream>

#include "arch/config/arch_spec.h"
#include "attnscope/error.h"
#include "test_rows.h"

using namespace attnscope;
using namespace attnscope::core;
using nlohmann::json;

namespace {

json fixtureConfig(const std::string& family) {
    std::ifstream in(std::string(ATTNSCOPE_TEST_DATA_DIR) + "/models/" + family + "/config.json");
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
}

// What each fixture family's config.json reads as. layerNorm: also a plain MLP with one KV
// head per query head.
struct Layout {
    QString arch;
    Activation act;
    bool layerNorm;
};
const std::map<QString, Layout> kLayouts = {
    {"gpt2", {"gpt2", Activation::GeluTanh, true}},
    {"gpt_neox", {"gpt_neox", Activation::Gelu, true}},
    {"gpt_neox_seq", {"gpt_neox", Activation::Gelu, true}},
    {"llama2", {"llama", Activation::Silu, false}},
    {"llama3", {"llama", Activation::Silu, false}},
    {"mistral", {"mistral", Activation::Silu, false}},
    {"qwen2", {"qwen2", Activation::Silu, false}},
    {"qwen3", {"qwen3", Activation::Silu, false}},
};

}  // namespace

class TestConfigJson : public QObject {
    Q_OBJECT
private slots:
    void fixtures_data();
    void fixtures();
    void activations_data();
    void activations();
};

void TestConfigJson::fixtures_data() { testrows::addFamilyRows("family"); }

void TestConfigJson::fixtures() {
    QFETCH(QString, family);
    const auto layout = kLayouts.find(family);
    QVERIFY2(layout != kLayouts.end(), "a fixture family with no expected layout in kLayouts");
    const auto& [arch, act, layerNorm] = layout->second;
    const json raw = fixtureConfig(family.toStdString());
    const ModelConfig c = configFromJson(raw, "config.json");
    QCOMPARE(QString::fromStdString(c.arch), arch);
    QCOMPARE(int(c.act), int(act));
    QCOMPARE(c.norm == NormKind::Layer, layerNorm);
    QCOMPARE(c.mlp == MlpKind::Plain, layerNorm);
    if (layerNorm) {
        QCOMPARE(c.nKvHeads, c.nHeads);
        QCOMPARE(c.headDim * c.nHeads, c.dModel);
    }
    QVERIFY(c.nLayers > 0 && c.vocabSize > 0);
}

void TestConfigJson::activations_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("act");  // -1: unsupported
    const std::pair<const char*, int> names[] = {
        {"silu", int(Activation::Silu)},          {"swish", int(Activation::Silu)},
        {"gelu", int(Activation::Gelu)},          {"gelu_new", int(Activation::GeluTanh)},
        {"gelu_fast", int(Activation::GeluTanh)}, {"gelu_pytorch_tanh", int(Activation::GeluTanh)},
        {"relu", int(Activation::Relu)},          {"quick_gelu", -1}};
    for (const auto& [family, key] : {std::pair{"gpt2", "activation_function"}, std::pair{"gpt_neox", "hidden_act"},
                                      std::pair{"llama3", "hidden_act"}})
        for (const auto& [name, act] : names) QTest::addRow("%s %s", family, name) << family << key << name << act;
}

void TestConfigJson::activations() {
    QFETCH(QString, family);
    QFETCH(QString, key);
    QFETCH(QString, name);
    QFETCH(int, act);
    json raw = fixtureConfig(family.toStdString());
    raw[key.toStdString()] = name.toStdString();
    if (act >= 0) {
        QCOMPARE(int(configFromJson(raw, "config.json").act), act);
        return;
    }
    try {
        configFromJson(raw, "config.json");
        QFAIL("an unknown activation was accepted");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Unsupported);
        const std::string want = "config.json: " + key.toStdString() + " '" + name.toStdString() + "'";
        QVERIFY2(std::string(e.what()).find(want) != std::string::npos, e.what());
    }
}

QTEST_GUILESS_MAIN(TestConfigJson)
#include "tst_config_json.moc"
