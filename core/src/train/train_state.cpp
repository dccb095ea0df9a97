#include "train/train_state.h"

#include <cstring>
#include <sstream>
#include <type_traits>

#include "attnscope/error.h"
#include "io/safetensors.h"
#include "arch/tensor_load.h"

namespace attnscope::core {
namespace {

io::NamedBuffer f32(const std::string& name, const at::Tensor& t) {
    at::Tensor c = t.detach().to(at::kCPU, at::kFloat).contiguous();
    io::NamedBuffer b{name, io::StDType::F32, std::vector<int64_t>(c.sizes().begin(), c.sizes().end()),
                      std::vector<uint8_t>(c.nbytes())};
    std::memcpy(b.bytes.data(), c.data_ptr(), c.nbytes());
    return b;
}

// The optimizer's state map is keyed by the parameter's TensorImpl: a string in older
// libtorch, a pointer in newer ones.
template <class Map>
typename Map::key_type stateKey(const Map&, const at::Tensor& p) {
    if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
        std::ostringstream ss;  // as c10::guts::to_string formats the pointer in libtorch 1.x
        ss << static_cast<const void*>(p.unsafeGetTensorImpl());
        return ss.str();
    } else
        return static_cast<typename Map::key_type>(p.unsafeGetTensorImpl());
}

}  // namespace

std::vector<std::pair<std::string, at::Tensor>> namedParameters(const Weights& w) {
    std::vector<std::pair<std::string, at::Tensor>> out = {{"tok_emb", w.tokEmb}, {"final_norm", w.finalNormW}};
    if (!w.lmHead.is_same(w.tokEmb)) out.push_back({"lm_head", w.lmHead});
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const auto& L = w.layers[l];
        const std::string p = "layers." + std::to_string(l) + ".";
        for (auto [n, t] : {std::pair{"attn_norm", &L.attnNormW}, {"mlp_norm", &L.mlpNormW}, {"wq", &L.wq}, {"wk", &L.wk},
                            {"wv", &L.wv}, {"wo", &L.wo}, {"w_gate", &L.wGate}, {"w_up", &L.wUp}, {"w_down", &L.wDown}})
            out.push_back({p + n, *t});
    }
    return out;
}

void saveTrainState(const std::string& path, const TrainState& s, const Weights& w, torch::optim::AdamW& opt) {
    std::vector<io::NamedBuffer> t;
    auto& state = opt.state();
    for (const auto& [name, p] : namedParameters(w)) {
        t.push_back(f32("param." + name, p));
        auto it = state.find(stateKey(state, p));
        if (it == state.end()) continue;
        auto& st = static_cast<torch::optim::AdamWParamState&>(*it->second);
        t.push_back(f32("exp_avg." + name, st.exp_avg()));
        t.push_back(f32("exp_avg_sq." + name, st.exp_avg_sq()));
    }
    io::writeSafetensors(path, t, {{"step", std::to_string(s.step)}, {"tokens_seen", std::to_string(s.tokensSeen)},
                                   {"last_train_loss", std::to_string(s.lastTrainLoss)}});
}

TrainState loadTrainState(const std::string& path, Weights& w, torch::optim::AdamW& opt) {
    auto f = io::SafetensorsFile::open(path);
    auto meta = [&](const char* k) {
        auto it = f->metadata().find(k);
        if (it == f->metadata().end()) fail(ErrorKind::BadInput, path + ": missing metadata " + k);
        return it->second;
    };
    TrainState s;
    s.step = std::stoll(meta("step"));
    s.tokensSeen = std::stoll(meta("tokens_seen"));
    s.lastTrainLoss = std::stod(meta("last_train_loss"));
    auto& state = opt.state();
    at::NoGradGuard ng;
    for (auto& [name, p] : namedParameters(w)) {
        const io::TensorEntry* e = f->find("param." + name);
        if (!e) fail(ErrorKind::BadInput, path + ": missing param." + name);
        p.copy_(tensorFromEntry(*e).view(p.sizes()));
        const io::TensorEntry* m1 = f->find("exp_avg." + name);
        const io::TensorEntry* m2 = f->find("exp_avg_sq." + name);
        if (!m1 || !m2) continue;
        auto st = std::make_unique<torch::optim::AdamWParamState>();
        st->step(s.step);
        st->exp_avg(tensorFromEntry(*m1).view(p.sizes()).to(p.device()));
        st->exp_avg_sq(tensorFromEntry(*m2).view(p.sizes()).to(p.device()));
        state[stateKey(state, p)] = std::move(st);
    }
    return s;
}

}  // namespace attnscope::core
