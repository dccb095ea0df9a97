// Training loop: batches of BOS-started windows, AdamW with warmup + cosine decay,
// gradient clipping, bf16 autocast on CUDA, held-out evaluation, resumable state and
// HF snapshots. The forward is the runtime's Decoder with autograd switched on.
#include <torch/torch.h>
#include <torch/version.h>
#include <ATen/autocast_mode.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "attnscope/train.h"
#include "model/model_impl.h"
#include "train/corpus.h"
#include "train/hf_export.h"
#include "train/train_state.h"

namespace fs = std::filesystem;

namespace attnscope {

using namespace core;

namespace {

// Token stream of [BOS] doc [EOS] for the chosen split.
std::vector<int32_t> tokenStream(const std::vector<Document>& docs, const Tokenizer& tok, bool heldOut) {
    std::vector<int32_t> s;
    for (const auto& d : docs) {
        if (d.heldOut != heldOut) continue;
        s.push_back(tok.bosId());
        const auto ids = tok.encode(d.text, false);
        s.insert(s.end(), ids.begin(), ids.end());
        s.push_back(tok.eosId());
    }
    return s;
}

// B windows of T+1 tokens, each [BOS] + stream[start : start+T] (inputs = first T,
// labels = last T), so position 0 always holds BOS.
std::pair<at::Tensor, at::Tensor> batchAt(const std::vector<int32_t>& stream, int32_t bos, int B, int T,
                                          std::mt19937_64& rng, at::Device dev) {
    std::uniform_int_distribution<size_t> pick(0, stream.size() - size_t(T) - 1);
    at::Tensor x = at::empty({B, T + 1}, at::kLong);
    auto* p = x.data_ptr<int64_t>();
    for (int b = 0; b < B; ++b) {
        const size_t s = pick(rng);
        p[b * (T + 1)] = bos;
        for (int t = 0; t < T; ++t) p[b * (T + 1) + 1 + t] = stream[s + size_t(t)];
    }
    x = x.to(dev);
    return {x.slice(1, 0, T), x.slice(1, 1, T + 1)};
}

ModelConfig configFor(const TrainOptions& o, const Tokenizer& tok) {
    ModelConfig c;
    c.arch = "llama";
    static_cast<ModelShape&>(c) = o.shape;
    if (c.headDim == 0 && c.nHeads > 0) c.headDim = c.dModel / c.nHeads;
    c.vocabSize = tok.vocabSize();
    c.rope.theta = o.ropeTheta; c.rope.rotaryDim = c.headDim;
    c.tiedEmbeddings = true;
    c.bosId = tok.bosId(); c.eosId = tok.eosId();
    c.validate("training options");
    return c;
}

Weights initWeights(const ModelConfig& c, at::Device dev, uint64_t seed) {
    at::manual_seed(seed);
    auto opts = at::TensorOptions().device(dev).dtype(at::kFloat);
    const double std = 0.02, projStd = 0.02 / std::sqrt(2.0 * c.nLayers);  // GPT-2's residual scaling
    auto w = [&](int64_t out, int64_t in, double s) { return (at::randn({out, in}, opts) * s).requires_grad_(); };
    auto ones = [&](int64_t n) { return at::ones({n}, opts).requires_grad_(); };
    const int64_t D = c.dModel, F = c.dFF, qd = int64_t(c.nHeads) * c.headDim, kvd = int64_t(c.nKvHeads) * c.headDim;
    Weights W;
    W.tokEmb = w(c.vocabSize, D, std);
    W.lmHead = W.tokEmb;
    W.finalNormW = ones(D);
    for (int l = 0; l < c.nLayers; ++l) {
        LayerWeights L;
        L.attnNormW = ones(D); L.mlpNormW = ones(D);
        L.wq = w(qd, D, std); L.wk = w(kvd, D, std); L.wv = w(kvd, D, std); L.wo = w(D, qd, projStd);
        L.wGate = w(F, D, std); L.wUp = w(F, D, std); L.wDown = w(D, F, projStd);
        W.layers.push_back(std::move(L));
    }
    return W;
}

double lrAt(const TrainOptions& o, int64_t step) {
    if (step < o.warmupSteps) return o.lr * double(step + 1) / double(o.warmupSteps);
    const double progress = double(step - o.warmupSteps) / double(std::max<int64_t>(1, o.steps - o.warmupSteps));
    const double cosine = 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, progress)));
    return o.lr * (o.minLrRatio + (1.0 - o.minLrRatio) * cosine);
}

// bf16 autocast for CUDA matmuls; the API moved between libtorch 1.x and 2.x.
struct AutocastScope {
    bool on;
    explicit AutocastScope(bool enable) : on(enable) {
        if (!on) return;
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 4 || TORCH_VERSION_MAJOR >= 3
        at::autocast::set_autocast_enabled(at::kCUDA, true);
        at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
        at::autocast::set_enabled(true);
        at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
    }
    ~AutocastScope() {
        if (!on) return;
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 4 || TORCH_VERSION_MAJOR >= 3
        at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
        at::autocast::set_enabled(false);
#endif
        at::autocast::clear_cache();
    }
};

double evalLoss(const Decoder& dec, const std::vector<int32_t>& stream, int32_t bos, const TrainOptions& o,
                at::Device dev, bool autocast) {
    at::NoGradGuard ng;
    std::mt19937_64 rng(o.seed ^ 0x5eed);  // the same held-out windows at every evaluation
    double total = 0;
    for (int64_t i = 0; i < o.evalBatches; ++i) {
        auto [x, y] = batchAt(stream, bos, o.batchSize, o.shape.contextLength, rng, dev);
        AutocastScope ac(autocast);
        ForwardRequest req;
        req.ids = x;
        const at::Tensor logits = dec.forward(req).logits;
        total += at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), y.reshape({-1})).item<double>();
    }
    return total / double(o.evalBatches);
}

}  // namespace

bool trainModel(const TrainOptions& o, const std::function<void(const TrainProgress&)>& onStep, std::stop_token stop) {
    return guardTorch([&] {
        const auto tok = Tokenizer::fromHuggingFace(o.tokenizerDir + "/tokenizer.json", o.tokenizerDir + "/tokenizer_config.json");
        if (tok->bosId() < 0 || tok->eosId() < 0) fail(ErrorKind::BadInput, o.tokenizerDir + ": the tokenizer needs BOS and EOS tokens");
        const auto docs = loadCorpus(o.corpus);
        const auto train = tokenStream(docs, *tok, false), held = tokenStream(docs, *tok, true);
        if (train.size() < size_t(o.shape.contextLength) * 4 || held.size() < size_t(o.shape.contextLength) + 2)
            fail(ErrorKind::BadInput, o.corpus.dir + ": corpus too small for the context length");
        const at::Device dev = o.device == Device::CUDA ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
        const bool autocast = o.bf16Autocast && o.device == Device::CUDA;
        const ModelConfig cfg = configFor(o, *tok);
        fs::create_directories(o.outDir);

        Weights W = initWeights(cfg, dev, o.seed);
        std::vector<at::Tensor> decay, noDecay;
        for (const auto& [name, t] : namedParameters(W)) (t.dim() >= 2 ? decay : noDecay).push_back(t);
        std::vector<at::Tensor> all(decay);
        all.insert(all.end(), noDecay.begin(), noDecay.end());
        std::vector<torch::optim::OptimizerParamGroup> groups;
        groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                       torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).weight_decay(o.weightDecay)));
        groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                         torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).weight_decay(0.0)));
        torch::optim::AdamW opt(std::move(groups));
        TrainState state;
        const std::string resumePath = o.outDir + "/resume.safetensors";
        if (fs::exists(resumePath)) state = loadTrainState(resumePath, W, opt);
        Decoder dec(cfg, W, dev, at::kFloat);

        std::ofstream csv(o.outDir + "/loss.csv", std::ios::app);
        if (state.step == 0) csv << "step,tokens,lr,train_loss,heldout_loss\n";
        const auto started = std::chrono::steady_clock::now();
        auto snapshot = [&](int64_t step, double heldLoss) {
            const std::string dir = o.outDir + "/checkpoints/step-" + std::to_string(step);
            exportHfLlama(cfg, W, dir, at::kBFloat16);
            std::ofstream(dir + "/train_state.json")
                << "{\"step\": " << step << ", \"tokens_seen\": " << state.tokensSeen
                << ", \"heldout_loss\": " << heldLoss << ", \"train_loss\": " << state.lastTrainLoss << "}\n";
        };
        auto wantsSnapshot = [&](int64_t step) {
            return std::find(o.snapshotSteps.begin(), o.snapshotSteps.end(), step) != o.snapshotSteps.end();
        };
        if (state.step == 0 && wantsSnapshot(0)) snapshot(0, evalLoss(dec, held, tok->bosId(), o, dev, autocast));

        for (; state.step < o.steps; ) {
            if (stop.stop_requested()) fail(ErrorKind::Cancelled, "training cancelled");
            std::mt19937_64 rng(o.seed + uint64_t(state.step) * 7919);  // resumable: depends on the step only
            auto [x, y] = batchAt(train, tok->bosId(), o.batchSize, o.shape.contextLength, rng, dev);
            const double lr = lrAt(o, state.step);
            for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
            opt.zero_grad();
            at::Tensor loss;
            {
                AutocastScope ac(autocast);
                ForwardRequest req;
                req.ids = x;
                req.training = true;
                const at::Tensor logits = dec.forward(req).logits;
                loss = at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), y.reshape({-1}));
            }
            loss.backward();
            torch::nn::utils::clip_grad_norm_(all, o.gradClip);
            opt.step();
            ++state.step;
            state.tokensSeen += int64_t(o.batchSize) * o.shape.contextLength;
            TrainProgress p{state.step, state.tokensSeen, lr, loss.item<double>(), -1};
            state.lastTrainLoss = p.trainLoss;
            const bool last = state.step == o.steps;
            if (state.step % o.evalEvery == 0 || last || wantsSnapshot(state.step))
                p.heldOutLoss = evalLoss(dec, held, tok->bosId(), o, dev, autocast);
            csv << p.step << ',' << p.tokensSeen << ',' << p.lr << ',' << p.trainLoss << ',';
            if (p.heldOutLoss >= 0) csv << p.heldOutLoss;
            csv << '\n' << std::flush;
            if (onStep) onStep(p);
            if (wantsSnapshot(state.step)) snapshot(state.step, p.heldOutLoss);
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            if (o.stopAfterSeconds > 0 && elapsed > double(o.stopAfterSeconds) && !last) {
                saveTrainState(resumePath, state, W, opt);
                return false;
            }
        }
        exportHfLlama(cfg, W, o.outDir + "/final", at::kBFloat16);
        for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
            fs::copy_file(o.tokenizerDir + "/" + f, o.outDir + "/final/" + f, fs::copy_options::overwrite_existing);
        saveTrainState(resumePath, state, W, opt);
        return true;
    });
}

}  // namespace attnscope
