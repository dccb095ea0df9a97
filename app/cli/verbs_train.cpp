// Verbs that build models: train-tokenizer, train, eval (held-out perplexity vs unigram).
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "attnscope/train.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

CorpusOptions corpusOptions(const CliArgs& a) {
    if (!a.has("--corpus")) fail(ErrorKind::BadInput, "--corpus DIR (a directory of .txt documents) is required");
    CorpusOptions c;
    c.dir = a.str("--corpus");
    c.heldOutEvery = a.integer("--held-out-every", 20);
    return c;
}

std::vector<int64_t> int64List(const std::string& s) {
    const std::vector<long long> v = integerList(s, "--snapshots");
    return {v.begin(), v.end()};
}

}  // namespace

int verbTrainTokenizer(const std::vector<std::string>& argv) {
    const CliArgs a(argv, {"--corpus", "--vocab", "--out", "--held-out-every", "--context"}, {"--json"});
    TokenizerTrainOptions o;
    o.corpus = corpusOptions(a);
    o.vocabSize = a.integer("--vocab", 4096);
    o.contextLength = a.integer("--context", 1024);
    o.outDir = a.str("--out");
    if (o.outDir.empty()) fail(ErrorKind::BadInput, "--out DIR is required");
    const auto r = trainBpeTokenizer(o);
    std::printf("tokenizer: %d tokens from %lld bytes (%lld distinct words) -> %s\n", r.vocabSize,
                (long long)r.trainingBytes, (long long)r.distinctWords, o.outDir.c_str());
    return 0;
}

int verbTrain(const std::vector<std::string>& argv) {
    const CliArgs a(argv,
                    {"--corpus", "--tokenizer", "--out", "--held-out-every", "--layers", "--d-model", "--heads",
                     "--kv-heads", "--ff", "--context", "--batch", "--steps", "--warmup", "--lr", "--seed", "--device",
                     "--eval-every", "--snapshots", "--stop-after"},
                    {"--json", "--no-autocast"});
    TrainOptions o;
    o.corpus = corpusOptions(a);
    o.tokenizerDir = a.str("--tokenizer");
    o.outDir = a.str("--out");
    if (o.tokenizerDir.empty() || o.outDir.empty()) fail(ErrorKind::BadInput, "--tokenizer DIR and --out DIR are required");
    o.shape.nLayers = a.integer("--layers", o.shape.nLayers);
    o.shape.dModel = a.integer("--d-model", o.shape.dModel);
    o.shape.nHeads = a.integer("--heads", o.shape.nHeads);
    o.shape.nKvHeads = a.integer("--kv-heads", o.shape.nKvHeads);
    o.shape.dFF = a.integer("--ff", o.shape.dFF);
    o.shape.contextLength = a.integer("--context", o.shape.contextLength);
    o.batchSize = a.integer("--batch", o.batchSize);
    o.steps = a.integer64("--steps", o.steps);
    o.warmupSteps = a.integer64("--warmup", o.warmupSteps);
    o.lr = a.number("--lr", o.lr);
    o.seed = uint64_t(a.integer64("--seed", int64_t(o.seed)));
    o.device = parseDevice(a.str("--device", "cpu"));
    o.evalEvery = a.integer64("--eval-every", o.evalEvery);
    o.bf16Autocast = !a.has("--no-autocast");
    o.snapshotSteps = int64List(a.str("--snapshots", ""));
    o.stopAfterSeconds = a.integer64("--stop-after", 0);
    const bool done = trainModel(o, [&](const TrainProgress& p) {
        if (p.heldOutLoss >= 0 || p.step % 50 == 0)
            std::printf("step %6lld  tokens %10lld  lr %.2e  train %.4f%s\n", (long long)p.step, (long long)p.tokensSeen,
                        p.lr, p.trainLoss,
                        p.heldOutLoss >= 0 ? ("  held-out " + std::to_string(p.heldOutLoss)).c_str() : "");
        std::fflush(stdout);
    });
    std::printf(done ? "training finished: %s/final\n" : "stopped early; run again to resume from %s/resume.safetensors\n",
                o.outDir.c_str());
    return 0;
}

int verbEval(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert({"--corpus", "--held-out-every", "--max-tokens"});
    const CliArgs a(argv, valued, kModelFlags);
    auto m = openModel(a);
    const CorpusOptions c = corpusOptions(a);
    const int64_t maxTokens = a.integer64("--max-tokens", 200000);
    const double loss = heldOutLoss(*m, c, maxTokens);
    const double uni = unigramHeldOutLoss(*m->tokenizer(), c, maxTokens);
    nlohmann::json j = {{"heldout_loss", loss}, {"heldout_ppl", std::exp(loss)}, {"unigram_loss", uni},
                        {"unigram_ppl", std::exp(uni)}};
    std::cout << j.dump(a.has("--json") ? -1 : 1) << "\n";
    return 0;
}

}  // namespace attnscope::app

namespace attnscope::app {

int verbTokenize(const std::vector<std::string>& argv) {
    const CliArgs a(argv, {"--tokenizer", "--prompt", "--prompt-file"}, {"--no-bos", "--json"});
    const std::string dir = a.str("--tokenizer");
    if (dir.empty()) fail(ErrorKind::BadInput, "--tokenizer DIR (with tokenizer.json) is required");
    const auto tok = Tokenizer::fromHuggingFace(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
    const std::string text = a.has("--prompt") ? a.str("--prompt") : readTextFile(a.str("--prompt-file"));
    const auto ids = tok->encode(text, !a.has("--no-bos"));
    nlohmann::json j = {{"ids", ids}, {"decoded", tok->decode(ids)}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
}

}  // namespace attnscope::app
