// Byte-level BPE training (GPT-2 style): pre-tokenize with the GPT-2 regex, map bytes to
// the byte-level alphabet, then repeatedly merge the most frequent adjacent pair. Pair
// counts are updated incrementally (only the words containing the merged pair change),
// with a lazy max-heap, so a few thousand merges over ~10 MB take seconds.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "attnscope/error.h"
#include "attnscope/train.h"
#include "io/atomic_file.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/regex.h"
#include "train/corpus.h"

namespace attnscope {
namespace {

// The GPT-2 pre-tokenizer pattern, as Hugging Face's ByteLevel(use_regex=true) applies it.
const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

using Pair = uint64_t;
Pair pairKey(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

struct Word {
    std::vector<int32_t> sym;
    int64_t count = 0;
};

struct Merger {
    std::vector<Word> words;
    std::unordered_map<Pair, int64_t> counts;
    std::unordered_map<Pair, std::unordered_set<int32_t>> where;
    std::priority_queue<std::pair<int64_t, Pair>, std::vector<std::pair<int64_t, Pair>>,
                        std::function<bool(const std::pair<int64_t, Pair>&, const std::pair<int64_t, Pair>&)>>
        heap{[](const auto& a, const auto& b) {
            // Higher count first; ties go to the smaller pair key so training is deterministic.
            return a.first != b.first ? a.first < b.first : a.second > b.second;
        }};

    void add(Pair p, int64_t n, int32_t w) {
        auto& c = counts[p];
        c += n;
        if (n > 0) { where[p].insert(w); heap.push({c, p}); }
    }

    void init() {
        for (int32_t w = 0; w < int32_t(words.size()); ++w)
            for (size_t i = 0; i + 1 < words[size_t(w)].sym.size(); ++i)
                add(pairKey(words[size_t(w)].sym[i], words[size_t(w)].sym[i + 1]), words[size_t(w)].count, w);
    }

    // Pops the current best pair (skipping stale heap entries); false when none is left.
    bool best(Pair& p, int64_t& n) {
        while (!heap.empty()) {
            auto [c, q] = heap.top();
            heap.pop();
            auto it = counts.find(q);
            if (it != counts.end() && it->second == c && c > 0) { p = q; n = c; return true; }
        }
        return false;
    }

    void merge(Pair p, int32_t newId) {
        const int32_t a = int32_t(p >> 32), b = int32_t(uint32_t(p));
        const auto ws = where[p];  // copy: the loop edits `where`
        for (int32_t w : ws) {
            Word& word = words[size_t(w)];
            auto& s = word.sym;
            std::vector<int32_t> out;
            out.reserve(s.size());
            for (size_t i = 0; i < s.size(); ++i) {
                if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) { out.push_back(newId); ++i; }
                else out.push_back(s[i]);
            }
            for (size_t i = 0; i + 1 < s.size(); ++i) add(pairKey(s[i], s[i + 1]), -word.count, w);
            for (size_t i = 0; i + 1 < out.size(); ++i) add(pairKey(out[i], out[i + 1]), word.count, w);
            s = std::move(out);
        }
        counts.erase(p);
        where.erase(p);
    }
};

}  // namespace

TokenizerTrainReport trainBpeTokenizer(const TokenizerTrainOptions& o) {
    if (o.vocabSize < 258 + 1 || o.vocabSize > 1 << 20) fail(ErrorKind::BadInput, "vocabulary size must be in 259..1048576");
    const auto docs = core::loadCorpus(o.corpus);
    tok::Regex re(kGpt2Pattern, "GPT-2 pre-tokenizer");
    std::unordered_map<std::string, int64_t> wordCounts;
    TokenizerTrainReport report;
    for (const auto& d : docs) {
        if (d.heldOut) continue;
        report.trainingBytes += int64_t(d.text.size());
        for (auto [b, e] : re.findAll(d.text)) ++wordCounts[tok::bytesToChars(std::string_view(d.text).substr(b, e - b))];
    }
    report.distinctWords = int64_t(wordCounts.size());

    // Vocabulary: specials, then the 256 byte-level characters in byte order, then merges.
    std::vector<std::string> vocab = {"<|bos|>", "<|eos|>"};
    std::unordered_map<std::string, int32_t> charId;
    for (int byte = 0; byte < 256; ++byte) {
        charId[tok::byteToChar(static_cast<unsigned char>(byte))] = int32_t(vocab.size());
        vocab.push_back(tok::byteToChar(static_cast<unsigned char>(byte)));
    }
    Merger m;
    std::vector<std::string> sorted;
    for (const auto& [w, n] : wordCounts) sorted.push_back(w);
    std::sort(sorted.begin(), sorted.end());  // deterministic word order
    for (const auto& w : sorted) {
        Word word{{}, wordCounts[w]};
        // Split the byte-level string into its characters (1-2 UTF-8 bytes each).
        for (size_t i = 0; i < w.size();) {
            const size_t len = (static_cast<unsigned char>(w[i]) < 0x80) ? 1 : 2;
            word.sym.push_back(charId.at(w.substr(i, len)));
            i += len;
        }
        m.words.push_back(std::move(word));
    }
    m.init();
    std::vector<std::pair<std::string, std::string>> merges;
    while (int(vocab.size()) < o.vocabSize) {
        Pair p;
        int64_t n;
        if (!m.best(p, n) || n < o.minPairCount) break;
        const std::string& a = vocab[size_t(p >> 32)];
        const std::string& b = vocab[size_t(uint32_t(p))];
        merges.push_back({a, b});
        vocab.push_back(a + b);
        m.merge(p, int32_t(vocab.size() - 1));
    }
    report.vocabSize = int(vocab.size());

    nlohmann::json vj = nlohmann::json::object();
    for (size_t i = 0; i < vocab.size(); ++i) vj[vocab[i]] = i;
    nlohmann::json mj = nlohmann::json::array();
    for (const auto& [a, b] : merges) mj.push_back({a, b});
    auto special = [](int id, const char* s) {
        return nlohmann::json{{"id", id}, {"content", s}, {"single_word", false}, {"lstrip", false},
                              {"rstrip", false}, {"normalized", false}, {"special", true}};
    };
    nlohmann::json tj = {
        {"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr},
        {"added_tokens", {special(0, "<|bos|>"), special(1, "<|eos|>")}},
        {"normalizer", nullptr},
        {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
        {"post_processor",
         {{"type", "TemplateProcessing"},
          {"single", {{{"SpecialToken", {{"id", "<|bos|>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"pair", {{{"SpecialToken", {{"id", "<|bos|>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
          {"special_tokens", {{"<|bos|>", {{"id", "<|bos|>"}, {"ids", {0}}, {"tokens", {"<|bos|>"}}}}}}}},
        {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
        {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                   {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                   {"ignore_merges", false}, {"vocab", vj}, {"merges", mj}}}};
    nlohmann::json cj = {{"bos_token", "<|bos|>"}, {"eos_token", "<|eos|>"}, {"add_bos_token", true},
                         {"add_eos_token", false}, {"model_max_length", o.contextLength},
                         {"tokenizer_class", "PreTrainedTokenizerFast"}, {"clean_up_tokenization_spaces", false}};
    std::filesystem::create_directories(o.outDir);
    io::writeFileAtomic(o.outDir + "/tokenizer.json", tj.dump(1));
    io::writeFileAtomic(o.outDir + "/tokenizer_config.json", cj.dump(2));
    return report;
}

}  // namespace attnscope
