// Training our own models: a byte-level BPE tokenizer and the llama-family decoder of the
// runtime (same forward code, with autograd). Used to build the built-in default model.
#pragma once
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "attnscope/model.h"

namespace attnscope {

// Documents for training: every *.txt file under `dir` (sorted by path) is one document.
// Every `heldOutEvery`-th document (by sorted index, starting at heldOutEvery-1) is held out.
struct CorpusOptions {
    std::string dir;
    int heldOutEvery = 20;
};

struct TokenizerTrainOptions {
    CorpusOptions corpus;
    int vocabSize = 4096;      // including the 256 byte tokens and the two specials
    int minPairCount = 2;
    std::string outDir;        // writes tokenizer.json and tokenizer_config.json
    int contextLength = 1024;  // model_max_length in tokenizer_config.json
};

struct TokenizerTrainReport {
    int vocabSize = 0;
    int64_t trainingBytes = 0;
    int64_t distinctWords = 0;
};

// Learns merges on the training documents (GPT-2 pre-tokenization, byte-level alphabet);
// specials <|bos|> = 0, <|eos|> = 1. The files load unchanged in Hugging Face tokenizers.
TokenizerTrainReport trainBpeTokenizer(const TokenizerTrainOptions& options);

struct TrainOptions {
    CorpusOptions corpus;
    std::string tokenizerDir;   // with tokenizer.json (from trainBpeTokenizer)
    std::string outDir;         // run directory: checkpoints, loss.csv, final HF model
    // The decoder to train. headDim 0: dModel / nHeads; the vocabulary is the tokenizer's.
    ModelShape shape{.nLayers = 6, .nHeads = 8, .nKvHeads = 2, .dModel = 256, .dFF = 256, .contextLength = 1024};
    double ropeTheta = 10000.0;
    int batchSize = 32;
    int64_t steps = 2000;
    int64_t warmupSteps = 100;
    double lr = 3e-3;
    double minLrRatio = 0.1;    // cosine decays to lr * minLrRatio
    double weightDecay = 0.1;
    double beta1 = 0.9, beta2 = 0.95;
    double gradClip = 1.0;
    uint64_t seed = 1234;
    Device device = Device::CPU;
    bool bf16Autocast = true;   // CUDA only
    int64_t evalEvery = 200;
    int64_t evalBatches = 8;
    std::vector<int64_t> snapshotSteps;  // HF checkpoints written as outDir/checkpoints/step-N
    int64_t stopAfterSeconds = 0;        // > 0: save a resume checkpoint and return early
};

struct TrainProgress {
    int64_t step = 0;
    int64_t tokensSeen = 0;
    double lr = 0;
    double trainLoss = 0;
    double heldOutLoss = -1;  // < 0 when not evaluated at this step
};

// Resumes from outDir/resume.safetensors when present. Returns true when all steps are done.
bool trainModel(const TrainOptions& options, const std::function<void(const TrainProgress&)>& onStep,
                std::stop_token stop = {});

// Mean next-token cross-entropy (nats) of `model` over the held-out documents of a corpus,
// in windows of the model's context (each starting with BOS).
double heldOutLoss(Model& model, const CorpusOptions& corpus, int64_t maxTokens);

// The same for a unigram model fitted on the training documents (add-one smoothing).
double unigramHeldOutLoss(const Tokenizer& tokenizer, const CorpusOptions& corpus, int64_t maxTokens);

}  // namespace attnscope
