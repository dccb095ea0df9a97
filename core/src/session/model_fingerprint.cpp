// Model fingerprints for sessions: SHA-256 over the files that identify a model (config,
// weight index or safetensors headers, tokenizer), never over gigabytes of weights.
#include "attnscope/error.h"
#include "attnscope/session.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace attnscope {
namespace fs = std::filesystem;

namespace {

constexpr size_t kPrefixBytes = 1 << 20;

std::string readPrefix(const fs::path& p, size_t maxBytes) {
    std::ifstream in(p, std::ios::binary);
    std::string out(maxBytes, '\0');
    in.read(out.data(), std::streamsize(maxBytes));
    out.resize(size_t(in.gcount()));
    return out;
}

// The 8-byte length plus the JSON header: names, dtypes, shapes and offsets of every tensor.
std::string safetensorsHeader(const fs::path& p) {
    std::string len = readPrefix(p, 8);
    if (len.size() < 8) return len;
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(len[size_t(i)]);
    return readPrefix(p, size_t(std::min<uint64_t>(n, 100ull << 20) + 8));
}

void add(std::string& acc, const std::string& label, const std::string& bytes) {
    acc += label;
    acc += '\0';
    acc += std::to_string(bytes.size());
    acc += '\0';
    acc += bytes;
}

void addFile(std::string& acc, const fs::path& p) {
    if (!fs::is_regular_file(p)) return;
    const std::string name = p.filename().string();
    if (p.extension() == ".safetensors") add(acc, name, safetensorsHeader(p));
    else if (p.extension() == ".json") add(acc, name, readPrefix(p, 64ull << 20));
    else add(acc, name + ":" + std::to_string(fs::file_size(p)), readPrefix(p, kPrefixBytes));
}

}  // namespace

std::string sessionModelFingerprint(const std::string& modelPath, const std::string& tokenizerPath) {
    std::error_code ec;
    fs::path p(modelPath);
    if (!fs::exists(p, ec)) fail(ErrorKind::NotFound, modelPath + ": no such model");
    std::string acc;
    if (fs::is_directory(p, ec)) {
        for (const char* f : {"config.json", "model.safetensors.index.json", "model.safetensors",
                              "tokenizer.json", "tokenizer_config.json"})
            addFile(acc, p / f);
        // Shards named by the index: their headers (sorted, so order never matters).
        std::vector<fs::path> shards;
        for (const auto& e : fs::directory_iterator(p, ec))
            if (e.path().extension() == ".safetensors" && e.path().filename() != "model.safetensors")
                shards.push_back(e.path());
        std::sort(shards.begin(), shards.end());
        for (const auto& s : shards) addFile(acc, s);
    } else {
        addFile(acc, p);
        addFile(acc, p.parent_path() / "config.json");
    }
    if (!tokenizerPath.empty()) addFile(acc, fs::path(tokenizerPath));
    return sha256Hex(acc.data(), acc.size());
}

SessionModelMatch checkSessionModel(const SessionModelRef& ref, std::string* foundHash) {
    std::error_code ec;
    if (ref.path.empty() || !fs::exists(ref.path, ec)) return SessionModelMatch::Absent;
    if (!ref.tokenizer.empty() && !fs::exists(ref.tokenizer, ec)) return SessionModelMatch::Absent;
    std::string h;
    try {
        h = sessionModelFingerprint(ref.path, ref.tokenizer);
    } catch (const Error&) {
        return SessionModelMatch::Absent;
    }
    if (foundHash) *foundHash = h;
    return h == ref.sha256 ? SessionModelMatch::Match : SessionModelMatch::Mismatch;
}

}  // namespace attnscope
