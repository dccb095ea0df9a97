// Model::weightTensors / weightMatrix: the weight matrices of a model, named and labelled
// for the weight analyses. Safetensors models answer from their mapped files, so values
// are exactly as stored whatever dtype and device the model runs in; llama2.c and random
// models answer from the canonical weights under synthesized names.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "arch/config/arch_spec.h"
#include "model/model_access.h"
#include "model/model_impl.h"
#include "model/model_weights.h"
#include "arch/tensor_load.h"

namespace attnscope {

using namespace core;

namespace {

struct CanonicalWeight {
    Model::WeightTensorInfo info;
    at::Tensor tensor;
};

// Rank of a component in a layer row, for a stable, readable order.
int componentRank(const std::string& c) {
    static const char* const kOrder[] = {"embed", "q", "k", "v", "qkv", "o", "gate", "up", "down", "lm_head"};
    for (int i = 0; i < int(std::size(kOrder)); ++i)
        if (c == kOrder[i]) return i;
    return int(std::size(kOrder));
}

void sortWeights(std::vector<Model::WeightTensorInfo>& v) {
    auto key = [](const Model::WeightTensorInfo& w) {
        // embed first, the blocks in order, lm_head last
        const int block = w.component == "lm_head" ? 1 << 30 : w.layer;
        return std::tuple(block, componentRank(w.component), w.name);
    };
    std::stable_sort(v.begin(), v.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
}

// llama2.c models keep Meta's names (the export script's source); random models are
// Llama-family and get Hugging Face names.
std::vector<CanonicalWeight> canonicalWeights(const Model::Impl& m) {
    const Weights& w = m.decoder.weights();
    const bool meta = m.info.arch == "llama2c";
    std::vector<CanonicalWeight> out;
    auto add = [&](std::string name, int layer, const char* comp, const at::Tensor& t) {
        if (!t.defined() || t.dim() != 2) return;
        out.push_back({{std::move(name), layer, comp, t.sizes().vec()}, t});
    };
    add(meta ? "tok_embeddings.weight" : "model.embed_tokens.weight", -1, "embed", w.tokEmb);
    for (int l = 0; l < int(w.layers.size()); ++l) {
        const LayerWeights& L = w.layers[size_t(l)];
        const std::string p = (meta ? "layers." : "model.layers.") + std::to_string(l) + ".";
        struct Role { const at::Tensor& t; const char* meta; const char* hf; const char* comp; };
        const Role roles[] = {{L.wq, "attention.wq", "self_attn.q_proj", "q"},
                              {L.wk, "attention.wk", "self_attn.k_proj", "k"},
                              {L.wv, "attention.wv", "self_attn.v_proj", "v"},
                              {L.wo, "attention.wo", "self_attn.o_proj", "o"},
                              {L.wGate, "feed_forward.w1", "mlp.gate_proj", "gate"},
                              {L.wUp, "feed_forward.w3", "mlp.up_proj", "up"},
                              {L.wDown, "feed_forward.w2", "mlp.down_proj", "down"}};
        for (const Role& r : roles) add(p + (meta ? r.meta : r.hf) + ".weight", l, r.comp, r.t);
    }
    // A tied classifier is the embedding itself: listing it twice would double-count it.
    if (w.lmHead.defined() && !w.lmHead.is_same(w.tokEmb))
        add(meta ? "output.weight" : "lm_head.weight", -1, "lm_head", w.lmHead);
    return out;
}

Matrix2D toMatrix(const std::vector<int64_t>& shape, std::vector<float> data) {
    Matrix2D out;
    out.rows = shape.empty() ? 1 : shape.size() == 1 ? 1 : shape[0];
    out.cols = out.rows ? int64_t(data.size()) / std::max<int64_t>(out.rows, 1) : 0;
    out.data = std::move(data);
    return out;
}

}  // namespace

std::vector<Model::WeightTensorInfo> Model::weightTensors() const {
    std::vector<WeightTensorInfo> out;
    if (m->files) {
        const ArchSpec* arch = findArchSpec(m->info.arch);
        if (!arch || !arch->describe) return out;
        for (const std::string& name : m->files->names()) {
            const io::TensorEntry* e = m->files->find(name);
            WeightTensorInfo w;
            if (!e || e->shape.size() != 2 || !arch->describe(name, w.layer, w.component)) continue;
            w.name = name;
            w.shape = e->shape;
            out.push_back(std::move(w));
        }
    } else {
        for (CanonicalWeight& c : canonicalWeights(*m)) out.push_back(std::move(c.info));
    }
    sortWeights(out);
    return out;
}

Matrix2D Model::weightMatrix(const std::string& name) const {
    return guardTorch([&] {
        if (m->files) {
            const io::TensorEntry* e = m->files->find(name);
            if (!e) fail(ErrorKind::NotFound, m->files->describe() + ": no tensor '" + name + "'");
            std::vector<float> data(size_t(std::max<int64_t>(e->numel(), 0)));
            if (e->dtype == io::StDType::F32) {
                if (e->nbytes != data.size() * sizeof(float))
                    fail(ErrorKind::BadInput, e->file + ": tensor '" + name + "' has a byte length that does not match its shape");
                if (e->nbytes) std::memcpy(data.data(), e->data, e->nbytes);  // the mapping may be unaligned
            } else {
                at::from_blob(data.data(), e->shape, at::kFloat).copy_(tensorFromEntry(*e));
            }
            return toMatrix(e->shape, std::move(data));
        }
        for (const CanonicalWeight& c : canonicalWeights(*m)) {
            if (c.info.name != name) continue;
            // One copy straight into the result: torch converts and copies in parallel on
            // the CPU, or in one transfer from the device.
            std::vector<float> data(static_cast<size_t>(c.tensor.numel()));
            at::from_blob(data.data(), c.tensor.sizes(), at::kFloat).copy_(c.tensor);
            return toMatrix(c.info.shape, std::move(data));
        }
        fail(ErrorKind::NotFound, m->info.path + ": no weight matrix '" + name + "'");
    });
}

std::vector<at::Tensor> liveWeightTensors(const Model& model, const std::vector<Model::WeightTensorInfo>& infos) {
    const Model::Impl& m = ModelAccess::impl(model);
    const std::vector<CanonicalWeight> canon = canonicalWeights(m);
    std::vector<at::Tensor> out(infos.size());
    for (size_t i = 0; i < infos.size(); ++i) {
        const Model::WeightTensorInfo& w = infos[i];
        for (const CanonicalWeight& c : canon) {
            if (c.info.layer != w.layer || c.info.component != w.component) continue;
            if (!m.files) {  // canonical names: the loaded tensor is the answer
                if (c.info.name == w.name) out[i] = c.tensor;
                break;
            }
            // A file tensor loaded unchanged: same dtype and element count (a layout change
            // such as GPT-2's transposed Conv1D keeps the multiset of values).
            const io::TensorEntry* e = m.files->find(w.name);
            int64_t n = 1;
            for (int64_t d : w.shape) n *= d;
            const at::ScalarType stored = !e ? at::kFloat
                                          : e->dtype == io::StDType::BF16 ? at::kBFloat16
                                          : e->dtype == io::StDType::F16  ? at::kHalf
                                                                          : at::kFloat;
            if (e && (e->dtype == io::StDType::F32 || e->dtype == io::StDType::BF16 || e->dtype == io::StDType::F16) &&
                c.tensor.scalar_type() == stored && c.tensor.numel() == n)
                out[i] = c.tensor;
            break;
        }
    }
    return out;
}

}  // namespace attnscope
