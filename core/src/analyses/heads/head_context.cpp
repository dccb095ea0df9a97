// What the head-role detectors of one prompt share (head_context.h).
#include "analyses/heads/head_context.h"

#include <algorithm>
#include <map>
#include <random>
#include <regex>
#include <sstream>

#include "attnscope/error.h"
#include "attnscope/model.h"
#include "attnscope/tokenizer.h"
#include "attnscope/trace.h"
#include "model/model_access.h"
#include "trace/trace_impl.h"

namespace attnscope::heads {
namespace {

// Options are found in prompts of at most this many tokens (their lines come from decoding
// every prefix: O(T²) characters).
constexpr int64_t kMaxChoiceTokens = 1024;

// Each token's end offset in the decoded text (prefix decoding: merged pieces stay right).
std::vector<size_t> tokenEnds(const Tokenizer& tok, const std::vector<int32_t>& ids, std::string& text) {
    std::vector<size_t> ends;
    std::vector<int32_t> prefix;
    for (int32_t id : ids) {
        prefix.push_back(id);
        text = tok.decode(prefix);
        ends.push_back(text.size());
    }
    for (size_t i = ends.size(); i-- > 1;) ends[i - 1] = std::min(ends[i - 1], ends[i]);  // monotone
    return ends;
}

}  // namespace

const core::LayerCapture& layerCapture(const Trace& trace, int layer, const char* what) {
    const auto* t = dynamic_cast<const core::TraceImpl*>(&trace);
    if (!t) fail(ErrorKind::NotFound, std::string(what) + " needs a trace made by running the model");
    return t->layer(layer);
}

int kvHeadOf(const Trace& trace, int head) { return head / (trace.nHeads() / trace.nKvHeads()); }

DetectorContext::DetectorContext(const Trace& t, Model& m, const HeadDetectorParams& p)
    : trace(t), model(m), params(p), m_key(key(p)) {}
DetectorContext::~DetectorContext() = default;

const core::ModelConfig& DetectorContext::config() const { return ModelAccess::impl(model).decoder.config(); }

std::string DetectorContext::key(const HeadDetectorParams& p) {
    std::ostringstream s;
    for (const std::string& d : p.detectors) s << d << ',';
    s << '|' << p.matchedRows << p.excludeBos << p.excludeCurrent << '|' << p.inductionLength << '|' << p.seed << '|'
      << p.answer << '|' << p.eolNewline << '|' << p.streamSinks << '|' << p.streamWindow << '|' << p.retrievalTail;
    for (const auto& [id, v] : p.thresholds) s << '|' << id << '=' << v;
    return s.str();
}

bool DetectorContext::sameAs(const Trace& t, const Model& m, const std::string& paramsKey) const {
    return &t == &trace && &m == &model && paramsKey == m_key;
}

const RepeatedSequence& DetectorContext::repeated(const JobControl& job) {
    if (m_repeated) return *m_repeated;
    RepeatedSequence r;
    const Tokenizer* tok = model.tokenizer();
    const int32_t V = int32_t(model.info().vocabSize);
    const int32_t bos = tok ? tok->bosId() : -1;
    std::vector<int32_t> pool;
    for (int32_t id = 0; id < V; ++id)
        if (id != bos && (!tok || (!tok->isSpecial(id) && id != tok->eosId()))) pool.push_back(id);
    r.offset = bos >= 0 ? 1 : 0;
    const int64_t room = (model.info().contextLength - r.offset) / 2;
    r.n = std::min<int64_t>(params.inductionLength, room);
    if (r.n < 2 || pool.size() < 2) {
        r.note = "induction_repeated: the model's context or vocabulary is too small for a repeated sequence";
        m_repeated = std::move(r);
        return *m_repeated;
    }
    // Distinct tokens while the vocabulary allows (a partial Fisher-Yates shuffle): then every
    // token of the second copy has exactly one earlier occurrence, so the target is unambiguous.
    std::mt19937_64 rng(params.seed);
    std::vector<int32_t> R(static_cast<size_t>(r.n));
    const bool distinct = size_t(r.n) <= pool.size();
    for (size_t i = 0; i < R.size(); ++i) {
        const size_t from = distinct ? i : 0;
        const size_t at = std::uniform_int_distribution<size_t>(from, pool.size() - 1)(rng);
        if (distinct) std::swap(pool[i], pool[at]);
        R[i] = pool[distinct ? i : at];
    }
    if (bos >= 0) r.ids.push_back(bos);
    r.ids.insert(r.ids.end(), R.begin(), R.end());
    r.ids.insert(r.ids.end(), R.begin(), R.end());
    RunOptions run;
    run.trace.keepResidual = run.trace.keepPreRope = run.trace.keepValues = run.trace.keepMlp = false;
    run.trace.keepLogits = false;
    run.job.stop = job.stop;
    r.trace = model.run(r.ids, run);
    r.note = "induction_repeated: " + std::string(bos >= 0 ? "BOS + " : "") + std::to_string(r.n) +
             (distinct ? " distinct" : "") + " random tokens twice (seed " + std::to_string(params.seed) + ")";
    m_repeated = std::move(r);
    return *m_repeated;
}

const at::Tensor& DetectorContext::ovMiddle(const JobControl& job) {
    if (m_ovMiddle.defined()) return m_ovMiddle;
    const core::Weights& w = ModelAccess::impl(model).decoder.weights();
    const at::Tensor emb = w.tokEmb, unemb = w.lmHead.defined() ? w.lmHead : w.tokEmb;
    const int64_t V = emb.size(0), D = emb.size(1);
    at::Tensor g = at::zeros({D, D}, at::kDouble);
    constexpr int64_t kChunk = 4096;  // vocab rows at a time: D x V products stay small
    for (int64_t v0 = 0; v0 < V; v0 += kChunk) {
        job.check();
        const int64_t v1 = std::min(V, v0 + kChunk);
        const at::Tensor u = unemb.slice(0, v0, v1).to(at::kCPU, at::kDouble);
        const at::Tensor e = emb.slice(0, v0, v1).to(at::kCPU, at::kDouble);
        g.add_(u.t().mm(e));
    }
    if (w.finalNormW.defined()) g = w.finalNormW.to(at::kCPU, at::kDouble).unsqueeze(1) * g;  // diag(γ)·G
    m_ovMiddle = g;
    return m_ovMiddle;
}

const ChoiceOptions& DetectorContext::options() {
    if (m_options) return *m_options;
    ChoiceOptions o;
    const std::vector<int32_t>& ids = trace.ids();
    const Tokenizer* tok = model.tokenizer();
    if (!tok) o.note = "select_copy: the model has no tokenizer, so the options cannot be found";
    else if (int64_t(ids.size()) > kMaxChoiceTokens)
        o.note =
            "select_copy: options are looked for in prompts of at most " + std::to_string(kMaxChoiceTokens) + " tokens";
    if (!o.note.empty()) {
        m_options = std::move(o);
        return *m_options;
    }
    const std::string whole = tok->decode(ids);
    if (std::count(whole.begin(), whole.end(), '\n') < 2) {  // no two option lines: skip the prefix decoding
        o.note = "select_copy: no options found (lines \"A. …\", \"B. …\" ending in a newline, then the answer cue)";
        m_options = std::move(o);
        return *m_options;
    }
    std::string text;
    const std::vector<size_t> ends = tokenEnds(*tok, ids, text);
    auto tokenAt = [&](size_t offset) {  // the token whose decoded span holds `offset`
        return int64_t(std::upper_bound(ends.begin(), ends.end(), offset) - ends.begin());
    };
    // Lines "A. …", "A) …", "(A) …", "A: …": the last run of consecutive letters from A.
    static const std::regex option(R"(^\s*\(?([A-Z])[\.\):]\s)");
    std::string letters;
    std::vector<int64_t> keys;
    size_t start = 0;
    while (start < text.size()) {
        const size_t nl = text.find('\n', start);
        if (nl == std::string::npos) break;  // an option's line ends with a newline
        const std::string line = text.substr(start, nl - start);
        std::smatch m;
        if (std::regex_search(line, m, option)) {
            const char c = m[1].str()[0];
            if (c == 'A') {
                letters.clear();
                keys.clear();
            }
            if (c == char('A' + letters.size())) {
                size_t at = nl;          // newline_token: the token holding the newline
                if (!params.eolNewline)  // last_content_token: the last one before it
                    while (at > start && std::isspace(static_cast<unsigned char>(text[at]))) --at;
                letters += c;
                keys.push_back(std::min<int64_t>(tokenAt(at), int64_t(ids.size()) - 1));
            }
        }
        start = nl + 1;
    }
    if (letters.size() < 2) {
        o.note = "select_copy: no options found (lines \"A. …\", \"B. …\" ending in a newline, then the answer cue)";
    } else {
        o.letters = letters;
        o.keys = keys;
        o.query = int64_t(ids.size()) - 1;
        if (!params.answer.empty()) {
            const size_t g = letters.find(params.answer[0]);
            o.gold = g == std::string::npos ? -1 : int(g);
        }
        o.note = "select_copy: options " + letters + " at tokens";
        for (int64_t k : keys) o.note += " " + std::to_string(k);
        o.note += o.gold >= 0 ? "; score of the answer " + params.answer.substr(0, 1)
                              : (params.answer.empty() ? "; score of each head's own best option"
                                                       : "; answer " + params.answer +
                                                             " is not an option: each "
                                                             "head's own best option");
    }
    m_options = std::move(o);
    return *m_options;
}

const std::vector<std::vector<int64_t>>& DetectorContext::earlierCopies() {
    if (m_copies) return *m_copies;
    const std::vector<int32_t>& ids = trace.ids();
    std::map<int32_t, std::vector<int64_t>> seen;
    std::vector<std::vector<int64_t>> copies(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
        std::vector<int64_t>& s = seen[ids[i]];
        copies[i] = s;
        s.push_back(int64_t(i));
    }
    m_copies = std::move(copies);
    return *m_copies;
}

}  // namespace attnscope::heads
