// Held-out cross-entropy of a model, and of the unigram baseline it must beat.
#include <cmath>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "attnscope/train.h"
#include "train/corpus.h"

namespace attnscope {

using namespace core;

namespace {

std::vector<std::vector<int32_t>> tokenizedDocs(const Tokenizer& tok, const CorpusOptions& corpus, bool heldOut) {
    std::vector<std::vector<int32_t>> out;
    for (const auto& d : loadCorpus(corpus))
        if (d.heldOut == heldOut) out.push_back(tok.encode(d.text, false));
    return out;
}

}  // namespace

double heldOutLoss(Model& model, const CorpusOptions& corpus, int64_t maxTokens) {
    const Tokenizer* tok = model.tokenizer();
    if (!tok) fail(ErrorKind::BadInput, "the model has no tokenizer");
    const auto chunks = chunkDocuments(tokenizedDocs(*tok, corpus, true), model.info().contextLength,
                                       tok->bosId(), tok->eosId());
    double total = 0;
    int64_t n = 0;
    RunOptions ro;
    ro.trace.keepResidual = ro.trace.keepPreRope = ro.trace.keepValues = ro.trace.keepMlp = false;
    for (const auto& c : chunks) {
        if (n >= maxTokens) break;
        const Matrix2D lg = model.run(c, ro)->logits();
        for (int64_t t = 0; t + 1 < int64_t(c.size()); ++t) {
            const float* row = lg.data.data() + t * lg.cols;
            const float mx = *std::max_element(row, row + lg.cols);
            double z = 0;
            for (int64_t v = 0; v < lg.cols; ++v) z += std::exp(double(row[v] - mx));
            total += std::log(z) + mx - row[c[size_t(t + 1)]];
            ++n;
        }
    }
    if (n == 0) fail(ErrorKind::BadInput, corpus.dir + ": no held-out tokens");
    return total / double(n);
}

double unigramHeldOutLoss(const Tokenizer& tok, const CorpusOptions& corpus, int64_t maxTokens) {
    std::vector<double> counts(size_t(tok.vocabSize()), 1.0);  // add-one smoothing
    double total = double(tok.vocabSize());
    for (const auto& d : tokenizedDocs(tok, corpus, false)) {
        for (int32_t id : d) { counts[size_t(id)] += 1; total += 1; }
        counts[size_t(tok.eosId())] += 1;
        total += 1;
    }
    double loss = 0;
    int64_t n = 0;
    for (const auto& c : chunkDocuments(tokenizedDocs(tok, corpus, true), 1 << 30, tok.bosId(), tok.eosId()))
        for (size_t t = 1; t < c.size() && n < maxTokens; ++t, ++n) loss -= std::log(counts[size_t(c[t])] / total);
    if (n == 0) fail(ErrorKind::BadInput, corpus.dir + ": no held-out tokens");
    return loss / double(n);
}

}  // namespace attnscope
