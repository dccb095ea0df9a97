// Safetensors reader on the Hugging Face fixtures: every tensor's name and shape against the
// fixture's own config.json, values against the reference dump, and a sharded index against
// its JSON (never against our own output).
#include "../../../core/src/io/safetensors.h"
#include "attnscope/error.h"
#include "test_paths.h"
#include "test_rows.h"

#include <QtTest>  // with all of QtCore (QFile, QJsonDocument, QtEndian)

#include <cmath>
#include <cstring>

using namespace attnscope;
using namespace attnscope::io;

namespace {
// The spec's layout: u64 little-endian header length N, N bytes of JSON, then data.
quint64 headerLen(const QByteArray& raw) { return qFromLittleEndian<quint64>(raw.constData()); }
// F16 through Qt's qfloat16; BF16 is the top half of an F32 (both little-endian, as stored).
float readFloat(const TensorEntry& t, int64_t i) {  // memcpy: data may be unaligned
    qfloat16 h;
    uint32_t u = 0;
    if (t.dtype == StDType::F16) return std::memcpy(&h, t.data + 2 * i, 2), float(h);
    if (t.dtype == StDType::BF16) std::memcpy(reinterpret_cast<char*>(&u) + 2, t.data + 2 * i, 2);
    else std::memcpy(&u, t.data + 4 * i, 4);
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
struct Config {
    QJsonObject j;
    explicit Config(const QString& dir) : j(QJsonDocument::fromJson(testpaths::readBytes(dir + "/config.json")).object()) {}
    QString type() const { return j.value("model_type").toString(); }
    int64_t get(const char* k, int64_t d = -1) const { return j.value(k).isDouble() ? j.value(k).toInteger() : d; }
    // GPT-2 names its sizes differently.
    int64_t hidden() const { return type() == "gpt2" ? get("n_embd") : get("hidden_size"); }
    int64_t layers() const { return type() == "gpt2" ? get("n_layer") : get("num_hidden_layers"); }
    int64_t heads() const { return type() == "gpt2" ? get("n_head") : get("num_attention_heads"); }
};

using Shapes = std::map<std::string, std::vector<int64_t>>;
void wb(Shapes& s, const std::string& p, std::vector<int64_t> w, std::vector<int64_t> b) {
    s[p + ".weight"] = std::move(w);
    s[p + ".bias"] = std::move(b);
}

// The names of GPT-2's and GPT-NeoX's parameters: every block holds two LayerNorms, a fused
// q/k/v projection, the attention output and a two-matrix MLP, each with a bias.
struct BiasedFamily {
    const char *embed, *layers;  // token embedding; the blocks' prefix before the layer index
    const char *ln1, *ln2, *qkv, *attnOut, *up, *down;
    const char *finalNorm, *head;  // head: the untied output projection
    bool conv1d;                   // GPT-2's Conv1D stores [in, out]; Linear [out, in]
};
const BiasedFamily kGpt2{"transformer.wte", "transformer.h.",
                         "ln_1", "ln_2", "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj",
                         "transformer.ln_f", "lm_head", true};
const BiasedFamily kGptNeox{"gpt_neox.embed_in", "gpt_neox.layers.",
                            "input_layernorm", "post_attention_layernorm", "attention.query_key_value",
                            "attention.dense", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h",
                            "gpt_neox.final_layer_norm", "embed_out", false};

// Tensor names and shapes that a Hugging Face checkpoint of this config must hold.
Shapes expectedShapes(const Config& c) {
    const QString type = c.type();
    const bool tied = c.j.value("tie_word_embeddings").toBool();
    const int64_t V = c.get("vocab_size"), H = c.hidden(), L = c.layers(), nh = c.heads();
    Shapes s;
    if (type == "gpt2" || type == "gpt_neox") {
        const BiasedFamily& f = type == "gpt2" ? kGpt2 : kGptNeox;
        // GPT-2's n_inner is null in the config, meaning 4 * n_embd.
        const int64_t I = type == "gpt2" ? c.get("n_inner", 4 * H) : c.get("intermediate_size");
        auto linear = [&](const std::string& name, int64_t in, int64_t out) {
            wb(s, name, f.conv1d ? std::vector<int64_t>{in, out} : std::vector<int64_t>{out, in}, {out});
        };
        s[std::string(f.embed) + ".weight"] = {V, H};
        if (type == "gpt2") s["transformer.wpe.weight"] = {c.get("n_positions"), H};
        for (int64_t l = 0; l < L; ++l) {
            const std::string p = f.layers + std::to_string(l) + ".";
            wb(s, p + f.ln1, {H}, {H});
            wb(s, p + f.ln2, {H}, {H});
            linear(p + f.qkv, H, 3 * H);
            linear(p + f.attnOut, H, H);
            linear(p + f.up, H, I);
            linear(p + f.down, I, H);
        }
        wb(s, f.finalNorm, {H}, {H});
        if (!tied) s[std::string(f.head) + ".weight"] = {V, H};
        return s;
    }
    const int64_t I = c.get("intermediate_size");
    // Llama family: llama, mistral, qwen2 (q/k/v biases), qwen3 (q_norm/k_norm).
    const int64_t nkv = c.get("num_key_value_heads", nh), hd = c.get("head_dim", H / nh);
    s["model.embed_tokens.weight"] = {V, H};
    for (int64_t l = 0; l < L; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        s[p + "input_layernorm.weight"] = s[p + "post_attention_layernorm.weight"] = {H};
        s[p + "self_attn.q_proj.weight"] = {nh * hd, H};
        s[p + "self_attn.k_proj.weight"] = s[p + "self_attn.v_proj.weight"] = {nkv * hd, H};
        s[p + "self_attn.o_proj.weight"] = {H, nh * hd};
        if (type == "qwen2") {
            s[p + "self_attn.q_proj.bias"] = {nh * hd};
            s[p + "self_attn.k_proj.bias"] = s[p + "self_attn.v_proj.bias"] = {nkv * hd};
        }
        if (type == "qwen3") s[p + "self_attn.q_norm.weight"] = s[p + "self_attn.k_norm.weight"] = {hd};
        s[p + "mlp.gate_proj.weight"] = s[p + "mlp.up_proj.weight"] = {I, H};
        s[p + "mlp.down_proj.weight"] = {H, I};
    }
    s["model.norm.weight"] = {H};
    if (!tied) s["lm_head.weight"] = {V, H};
    return s;
}

}  // namespace

class TestSafetensorFixtures : public QObject {
    Q_OBJECT
private slots:
    void fixtures_data();
    void fixtures();  // model weights and ref.safetensors of every fixture
    void shardedIndexMatchesJson();
};

void TestSafetensorFixtures::fixtures_data() { testrows::addFamilyRows("model"); }

void TestSafetensorFixtures::fixtures() {
    QFETCH(QString, model);
    const QString dir = testpaths::data("models/" + model);
    const Config cfg(dir);
    QVERIFY(!cfg.j.isEmpty());
    const Shapes want = expectedShapes(cfg);
    const QString dt = cfg.j.value("dtype").toString();
    const StDType wantDtype = dt == "float16" ? StDType::F16 : dt == "bfloat16" ? StDType::BF16 : StDType::F32;
    if (model == "llama2") QCOMPARE(wantDtype, StDType::F16);
    if (model == "mistral" || model == "qwen3") QCOMPARE(wantDtype, StDType::BF16);

    const auto ws = WeightSet::openDirectory(dir.toStdString());
    std::vector<std::string> wantNames;
    for (const auto& kv : want) wantNames.push_back(kv.first);
    QCOMPARE(ws->names(), wantNames);
    uint64_t bytes = 0;
    for (const auto& [name, shape] : want) {
        const TensorEntry& t = ws->require(name, shape);
        QCOMPARE(t.dtype, wantDtype);
        QCOMPARE(t.nbytes, uint64_t(t.numel()) * stDTypeSize(wantDtype));
        bytes += t.nbytes;
    }
    if (model == "llama3") {
        QCOMPARE(ws->fileCount(), size_t(4));  // 20 map entries, 4 shards each opened once
    } else {
        // HF packs tensors back to back: 8 + header + data is the whole file.
        QCOMPARE(ws->fileCount(), size_t(1));
        const QByteArray raw = testpaths::readBytes(dir + "/model.safetensors");
        QCOMPARE(quint64(raw.size()), 8 + headerLen(raw) + bytes);
        QCOMPARE(ws->metadata().at("format"), std::string("pt"));
    }
    // The generator made norm weights 1 + 0.1 * randn: decoding the bytes at the entry's
    // pointer in its dtype must give values near 1.
    const TensorEntry& norm = ws->require(cfg.type() == "gpt2"       ? "transformer.ln_f.weight"
                                          : cfg.type() == "gpt_neox" ? "gpt_neox.final_layer_norm.weight"
                                                                     : "model.norm.weight");
    for (int64_t i = 0; i < norm.numel(); ++i) {
        const float v = readFloat(norm, i);
        QVERIFY2(v > 0.5f && v < 1.5f, qPrintable(QString::number(v)));
    }
    // ref.safetensors beside it, written by safetensors.torch.save_file.
    const int64_t V = cfg.get("vocab_size"), T = 16, H = cfg.hidden(), L = cfg.layers(), nh = cfg.heads();
    const auto ref = WeightSet::openFile((dir + "/ref.safetensors").toStdString());
    const TensorEntry& ids = ref->require("input_ids", {T});
    QCOMPARE(ids.dtype, StDType::I64);
    for (int64_t i = 0, v; i < T; ++i)  // torch.randint(3, vocab_size)
        QVERIFY((v = qFromLittleEndian<qint64>(ids.data + 8 * i)) >= 3 && v < V);
    QCOMPARE(ref->require("logits", {T, V}).dtype, StDType::F32);
    QCOMPARE(ref->require("hidden_states", {L + 1, T, H}).dtype, StDType::F32);
    // Attention rows are softmax distributions: they sum to 1.
    const TensorEntry& att = ref->require("attentions", {L, nh, T, T});
    for (int64_t r = 0; r < L * nh * T; ++r) {
        double sum = 0;
        for (int64_t k = 0; k < T; ++k) sum += readFloat(att, r * T + k);
        QVERIFY2(std::abs(sum - 1.0) < 1e-4, qPrintable(QString::number(sum)));
    }
}

void TestSafetensorFixtures::shardedIndexMatchesJson() {
    const QString dir = testpaths::data("models/llama3");
    const QJsonObject idx = QJsonDocument::fromJson(testpaths::readBytes(dir + "/model.safetensors.index.json")).object();
    const QJsonObject map = idx.value("weight_map").toObject();
    const auto ws = WeightSet::openDirectory(dir.toStdString());
    QCOMPARE(ws->names().size(), size_t(map.size()));
    uint64_t bytes = 0;
    int64_t params = 0;
    for (auto it = map.begin(); it != map.end(); ++it) {
        const TensorEntry* t = ws->find(it.key().toStdString());
        QVERIFY2(t, qPrintable(it.key()));
        QCOMPARE(QFileInfo(QString::fromStdString(t->file)).fileName(), it.value().toString());
        bytes += t->nbytes;
        params += t->numel();
    }
    const QJsonObject md = idx.value("metadata").toObject();
    QCOMPARE(bytes, uint64_t(md.value("total_size").toDouble()));
    QCOMPARE(params, int64_t(md.value("total_parameters").toDouble()));
    QVERIFY(QString::fromStdString(ws->describe()).endsWith("model.safetensors.index.json"));
    QCOMPARE(ws->metadata().at("total_size"), std::to_string(bytes));
}

QTEST_APPLESS_MAIN(TestSafetensorFixtures)
#include "tst_safetensors_fixtures.moc"
