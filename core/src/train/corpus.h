// Training documents: the *.txt files of a directory, split into training and held-out.
#pragma once
#include <string>
#include <vector>

#include "attnscope/train.h"

namespace attnscope::core {

struct Document {
    std::string name;
    std::string text;
    bool heldOut = false;
};

// Sorted by path so the split is the same on every machine. Throws NotFound when empty.
std::vector<Document> loadCorpus(const CorpusOptions& options);

// Sequences of at most `length` tokens, each starting with BOS: every document is
// [BOS] doc [EOS], cut into chunks; chunks after the first get a BOS of their own so that
// position 0 always holds BOS (where the attention sink forms).
std::vector<std::vector<int32_t>> chunkDocuments(const std::vector<std::vector<int32_t>>& docs,
                                                 int length, int32_t bos, int32_t eos);

}  // namespace attnscope::core
