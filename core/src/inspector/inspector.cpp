// The Inspector: the model, the prompt and its traces, attention views, head scores, sinks.
#include "inspector/inspector_impl.h"

#include <algorithm>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "analyses/heads/head_context.h"
#include "attnscope/tokenizer.h"

namespace attnscope {
namespace {

bool covers(const TracePolicy& have, const TracePolicy& need) {
    auto subset = [](const std::vector<int>& a, const std::vector<int>& b) {  // b ⊆ a, empty = every layer
        if (a.empty()) return true;
        if (b.empty()) return false;
        return std::all_of(b.begin(), b.end(), [&](int l) { return std::find(a.begin(), a.end(), l) != a.end(); });
    };
    return (have.keepResidual || !need.keepResidual) && (have.keepPreRope || !need.keepPreRope) &&
           (have.keepValues || !need.keepValues) && (have.keepMlp || !need.keepMlp) &&
           (have.keepLogits || !need.keepLogits) && (have.keepQk || !need.keepQk) && have.onDevice == need.onDevice &&
           subset(have.layers, need.layers);
}

TracePolicy unite(const TracePolicy& a, const TracePolicy& b) {
    TracePolicy u = a;
    u.keepResidual |= b.keepResidual;
    u.keepPreRope |= b.keepPreRope;
    u.keepValues |= b.keepValues;
    u.keepMlp |= b.keepMlp;
    u.keepLogits |= b.keepLogits;
    u.keepQk |= b.keepQk;
    if (a.layers.empty() || b.layers.empty()) {
        u.layers.clear();
    } else {
        u.layers.insert(u.layers.end(), b.layers.begin(), b.layers.end());
        std::sort(u.layers.begin(), u.layers.end());
        u.layers.erase(std::unique(u.layers.begin(), u.layers.end()), u.layers.end());
    }
    u.statsDuringForward = false;
    return u;
}

// Cosines against positions 0-3 and every BOS candidate: candidate edits need no recompute.
std::vector<int64_t> sinkReferences(const SinkParams& params) {
    std::vector<int64_t> refs = {0, 1, 2, 3};
    for (int64_t c : params.bosCandidates)
        if (std::find(refs.begin(), refs.end(), c) == refs.end()) refs.push_back(c);
    return refs;
}

}  // namespace

TracePolicy viewTracePolicy() {
    TracePolicy p;
    p.keepResidual = true;  // sinks: hidden-state geometry
    p.keepMlp = true;       // sinks: MLP outputs at creation
    p.keepQk = true;        // tiles and statistics
    p.keepPreRope = false;
    p.keepValues = false;
    p.keepLogits = false;
    return p;
}

Model& Inspector::Impl::requireModel() const {
    if (!model) fail(ErrorKind::BadInput, "Open a model first");
    return *model;
}

const Trace& Inspector::Impl::requireTrace() const {
    if (!hasPrompt || !trace) fail(ErrorKind::BadInput, "Run a prompt first");
    return *trace;
}

const std::vector<int32_t>& Inspector::Impl::requirePrompt() const {
    if (!hasPrompt) fail(ErrorKind::BadInput, "Run a prompt first");
    return prompt;
}

const Trace& Inspector::Impl::traceFor(const TracePolicy& needs, const JobControl& job) {
    requirePrompt();
    if (trace && covers(policy, needs)) return *trace;
    RunOptions options;
    options.trace = trace ? unite(policy, needs) : unite(viewTracePolicy(), needs);
    options.job = job;
    std::unique_ptr<Trace> wider = requireModel().run(prompt, options);
    trace = std::move(wider);  // statistics caches stay valid: same prompt, same numbers
    headContext.reset();       // it holds the old trace
    policy = options.trace;
    return *trace;
}

void Inspector::Impl::dropPrompt() {
    hasPrompt = false;
    prompt.clear();
    trace.reset();
    sinkInputs.clear();
    calibration.reset();
    a3Stats.clear();
    a3SweepKey.clear();
    a3Sweep.reset();
    headContext.reset();
    variantPairKey.clear();
    variantPair.reset();
}

namespace {

// The analyses allocate and free many T x T temporaries (maps, masks) of a few to a few hundred
// MB. glibc serves those with fresh mmaps, so every one page-faults its memory in again: the
// variants lab spent half its time there. Kept in the heap instead (mmap only above 256 MB, the
// heap trimmed above 512 MB free), the same work takes half the time at the same peak memory
// (attnscope-cli variants, 854 tokens: 18.8 s -> 9.7 s, 339 -> 350 MB).
void keepLargeBlocksInTheHeap() {
#if defined(__GLIBC__)
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_MMAP_THRESHOLD, 256 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    });
#endif
}

}  // namespace

Inspector::Inspector() : m(std::make_unique<Impl>()) { keepLargeBlocksInTheHeap(); }
Inspector::~Inspector() = default;

const ModelInfo& Inspector::open(const OpenOptions& options) {
    return guarded([&]() -> const ModelInfo& {
        close();  // two large models may not fit at once
        m->model = Model::open(options);
        return m->model->info();
    });
}

void Inspector::adopt(std::unique_ptr<Model> model) {
    close();
    m->model = std::move(model);
}

void Inspector::close() {
    m->dropPrompt();
    m->a3Original.reset();
    m->a3Applied.clear();
    m->model.reset();
}

void Inspector::Impl::dropTraces() {
    std::vector<int32_t> ids = std::move(prompt);
    const bool had = hasPrompt;
    dropPrompt();
    prompt = std::move(ids);
    hasPrompt = had;
}

bool Inspector::hasModel() const { return bool(m->model); }
const ModelInfo& Inspector::info() const { return m->requireModel().info(); }
Model& Inspector::model() { return m->requireModel(); }
const Model& Inspector::model() const { return m->requireModel(); }

std::vector<int32_t> Inspector::tokenize(const std::string& text, bool addSpecial) const {
    return guarded([&] { return m->requireModel().tokenize(text, addSpecial); });
}

std::string Inspector::piece(int32_t id) const {
    const Tokenizer* tokenizer = m->requireModel().tokenizer();
    return tokenizer ? tokenizer->piece(id) : "#" + std::to_string(id);
}

std::string Inspector::decode(const std::vector<int32_t>& ids) const {
    const Tokenizer* tokenizer = m->requireModel().tokenizer();
    return tokenizer ? guarded([&] { return tokenizer->decode(ids); }) : std::string();
}

Generation Inspector::generate(const std::vector<int32_t>& ids, int maxNewTokens, bool stopAtEos,
                               const SamplingOptions& sampling, const JobControl& job) {
    return guarded([&] { return m->requireModel().generate(ids, maxNewTokens, stopAtEos, job, sampling); });
}

TokenStrip Inspector::tokenStrip(const std::vector<int32_t>& ids) const {
    TokenStrip strip;
    strip.ids = ids;
    for (int32_t id : ids) strip.pieces.push_back(piece(id));
    return strip;
}

PromptInfo Inspector::setPrompt(std::vector<int32_t> ids, const JobControl& job, const TracePolicy& policy) {
    return guarded([&] {
        Model& model = m->requireModel();
        RunOptions options;
        options.trace = policy;
        options.job = job;
        std::unique_ptr<Trace> trace = model.run(ids, options);  // the last prompt stays until this exists
        m->dropPrompt();
        m->prompt = std::move(ids);
        m->trace = std::move(trace);
        m->policy = options.trace;
        m->hasPrompt = true;
        PromptInfo info;
        info.tokens = tokenStrip(m->prompt);
        info.length = m->trace->length();
        info.nLayers = m->trace->nLayers();
        info.nHeads = m->trace->nHeads();
        info.traceBytes = m->trace->memoryBytes();
        return info;
    });
}

void Inspector::setPromptIds(std::vector<int32_t> ids) {
    if (ids.empty()) fail(ErrorKind::BadInput, "The prompt is empty");
    m->dropPrompt();
    m->prompt = std::move(ids);
    m->hasPrompt = true;
}

bool Inspector::hasPrompt() const { return m->hasPrompt; }
const std::vector<int32_t>& Inspector::prompt() const { return m->requirePrompt(); }
const Trace& Inspector::trace() const { return m->requireTrace(); }

const Trace& Inspector::trace(const TracePolicy& needs, const JobControl& job) {
    return guarded([&]() -> const Trace& { return m->traceFor(needs, job); });
}

Matrix2D Inspector::attentionTile(int layer, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1) const {
    return guarded([&] { return m->requireTrace().attentionTile(layer, head, q0, q1, k0, k1); });
}

Matrix2D Inspector::overview(int layer, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1, int rows, int cols,
                             Pool pool) const {
    return guarded([&] { return m->requireTrace().overview(layer, head, q0, q1, k0, k1, rows, cols, pool); });
}

std::vector<float> Inspector::tokenAttention(int layer, int head, int64_t token, bool asKey) const {
    return guarded([&] {
        const Trace& trace = m->requireTrace();
        const int64_t T = trace.length();
        if (token < 0 || token >= T) fail(ErrorKind::BadInput, "No such token");
        if (!asKey) return trace.attentionTile(layer, head, token, token + 1, 0, T).data;
        // Queries before a key cannot see it: its column starts at the key itself.
        std::vector<float> column(size_t(T), 0.f);
        const Matrix2D below = trace.attentionTile(layer, head, token, T, token, token + 1);
        std::copy(below.data.begin(), below.data.end(), column.begin() + token);
        return column;
    });
}

heads::DetectorContext& Inspector::Impl::headDetectors(const HeadDetectorParams& params, const JobControl& job) {
    TracePolicy needs = viewTracePolicy();
    needs.keepValues = heads::detectorsNeedValues(params);
    const Trace& t = traceFor(needs, job);
    Model& model = requireModel();
    if (!headContext || !headContext->sameAs(t, model, heads::DetectorContext::key(params)))
        headContext = std::make_shared<heads::DetectorContext>(t, model, params);
    return *headContext;
}

HeadLayerScores Inspector::headScores(int layer, const HeadDetectorParams& params, const JobControl& job) {
    return guarded([&] { return heads::scoreLayer(m->headDetectors(params, job), layer, job); });
}

HeadScores Inspector::headScores(const HeadDetectorParams& params, const JobControl& job) {
    return guarded([&] {
        heads::DetectorContext& ctx = m->headDetectors(params, job);
        const Trace& t = ctx.trace;
        HeadScores table = emptyHeadScores(t.nLayers(), t.nHeads(), headDetectorSelection(params));
        table.tokens = table.sampledRows = t.length();
        for (int l = 0; l < t.nLayers(); ++l) {
            job.check();
            mergeHeadLayer(table,
                           heads::scoreLayer(ctx, l, job.part(double(l) / t.nLayers(), double(l + 1) / t.nLayers())));
            job.report(double(l + 1) / t.nLayers());
        }
        return table;
    });
}

std::shared_ptr<const SinkInputs> Inspector::sinkInputs(const SinkParams& params, const JobControl& job) {
    return guarded([&] {
        const Trace& trace = m->traceFor(viewTracePolicy(), job);
        const auto key = std::make_pair(params.minQueryPos, sinkReferences(params));
        auto it = m->sinkInputs.find(key);
        if (it != m->sinkInputs.end()) return it->second;
        SinkInputOptions options;
        options.references = key.second;
        options.job = job;
        auto inputs = std::make_shared<const SinkInputs>(computeSinkInputs(trace, params.minQueryPos, options));
        m->sinkInputs[key] = inputs;
        return inputs;
    });
}

SinkResult Inspector::sinks(const SinkParams& params, const JobControl& job) {
    const std::shared_ptr<const SinkInputs> inputs = sinkInputs(params, job);
    return guarded([&] { return classifySinks(*inputs, params); });
}

std::vector<int64_t> Inspector::sinkPositions(const SinkParams& params, const JobControl& job) {
    try {
        return sinkMarks(sinks(params, job));
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::Cancelled) throw;
        return {};  // too short a prompt to classify: no marks
    }
}

}  // namespace attnscope
