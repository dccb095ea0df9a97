// Running a loaded model: tokenization, traced forward, greedy generation.
#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "attnscope/device_stats.h"
#include "model/model_impl.h"
#include "trace/trace_impl.h"

namespace attnscope {

using namespace core;

Model::Model(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
Model::~Model() = default;

const ModelInfo& Model::info() const { return m->info; }
const Tokenizer* Model::tokenizer() const { return m->tokenizer.get(); }

std::vector<int32_t> Model::tokenize(const std::string& text, bool addSpecial) const {
    if (!m->tokenizer)
        fail(ErrorKind::BadInput, m->info.path + ": this model has no tokenizer; give one (--tokenizer) or pass token ids");
    return m->tokenizer->encode(text, addSpecial);
}

namespace {

at::Tensor idsTensor(const std::vector<int32_t>& ids, const Model::Impl& impl) {
    const ModelConfig& c = impl.decoder.config();
    if (ids.empty()) fail(ErrorKind::BadInput, "the prompt is empty");
    if (int64_t(ids.size()) > c.contextLength)
        fail(ErrorKind::BadInput, "the prompt has " + std::to_string(ids.size()) +
                                      " tokens, longer than the model's context of " +
                                      std::to_string(c.contextLength));
    for (int32_t id : ids)
        if (id < 0 || id >= c.vocabSize)
            fail(ErrorKind::BadInput, "token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                          std::to_string(c.vocabSize - 1) + ")");
    std::vector<int64_t> v(ids.begin(), ids.end());
    return at::tensor(v, at::kLong).to(impl.decoder.device());
}

}  // namespace

std::unique_ptr<Trace> Model::run(const std::vector<int32_t>& ids, const RunOptions& o) {
    return guardTorch([&]() -> std::unique_ptr<Trace> {
        ForwardRequest req;
        req.ids = idsTensor(ids, *m);
        req.trace = &o.trace;
        req.allLogits = o.trace.keepLogits;
        req.job = o.job;
        const TracePolicy& p = o.trace;
        const ModelConfig& c = m->decoder.config();
        std::vector<LayerStatTensors> stats;
        // Then the fused forward's row LSE replaces pass 1 (which pooled maps with entropy still need).
        req.wantRowLse = !(p.stats.entropy && p.overviewRows > 0 && p.overviewCols > 0);
        if (p.statsDuringForward)
            req.onLayerQk = [&](int, const at::Tensor& q, const at::Tensor& k, const at::Tensor& rowLse) {
                LayerStatTensors s = computeLayerStats({q, k, c.logitScale(), c.slidingWindow}, p.stats,
                                                       p.overviewRows, p.overviewCols, rowLse);
                stats.push_back(p.onDevice ? std::move(s) : s.to(at::kCPU, /*pinnedAsync=*/true));
            };
        ForwardResult r = m->decoder.forward(req);
        if (!p.onDevice) synchronizeDevice();  // pinned host copies were queued without waiting
        auto trace = std::make_unique<TraceImpl>(c, ids, std::move(r));
        trace->setLayerStats(std::move(stats));
        return std::unique_ptr<Trace>(std::move(trace));
    });
}

namespace {

int32_t sampleToken(const at::Tensor& logits, const SamplingOptions& s, std::mt19937_64& rng) {
    if (s.temperature <= 0) return int32_t(logits.argmax().item<int64_t>());
    at::Tensor p = at::softmax(logits.to(at::kCPU, at::kDouble) / s.temperature, -1).contiguous();
    const double* pr = p.data_ptr<double>();
    std::vector<int32_t> order(size_t(p.numel()));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return pr[a] > pr[b]; });
    double mass = 0;
    size_t keep = 0;
    while (keep < order.size() && (keep == 0 || mass < s.topP)) mass += pr[order[keep++]];
    double r = std::uniform_real_distribution<double>(0.0, mass)(rng);
    for (size_t i = 0; i < keep; ++i)
        if ((r -= pr[order[i]]) <= 0) return order[i];
    return order[keep - 1];
}

}  // namespace

Generation Model::generate(const std::vector<int32_t>& prompt, int maxNewTokens, bool stopAtEos,
                           const JobControl& job, const SamplingOptions& sampling) {
    return guardTorch([&] {
        const ModelConfig& c = m->decoder.config();
        if (maxNewTokens < 0) fail(ErrorKind::BadInput, "the number of tokens to generate must be >= 0");
        if (int64_t(prompt.size()) + maxNewTokens > c.contextLength)
            fail(ErrorKind::BadInput, "prompt plus generated tokens (" + std::to_string(prompt.size() + size_t(maxNewTokens)) +
                                          ") exceed the model's context of " + std::to_string(c.contextLength));
        const int eos = m->tokenizer && m->tokenizer->eosId() >= 0 ? m->tokenizer->eosId() : c.eosId;
        Generation g;
        KvCache cache;
        ForwardRequest req;
        req.ids = idsTensor(prompt, *m);
        req.cache = &cache;
        req.allLogits = false;
        req.job.stop = job.stop;
        if (sampling.temperature < 0 || !(sampling.topP > 0 && sampling.topP <= 1))
            fail(ErrorKind::BadInput, "temperature must be >= 0 and top-p in (0, 1]");
        std::mt19937_64 rng(sampling.seed);
        for (int n = 0; n < maxNewTokens; ++n) {
            ForwardResult r = m->decoder.forward(req);
            const int32_t next = sampleToken(r.logits[0], sampling, rng);
            g.tokens.push_back(next);
            job.report(double(n + 1) / double(maxNewTokens));
            if (stopAtEos && next == eos) { g.stoppedAtEos = true; break; }
            req.pos0 = cache.length;
            req.ids = at::tensor(std::vector<int64_t>{next}, at::kLong).to(m->decoder.device());
        }
        return g;
    });
}

}  // namespace attnscope
