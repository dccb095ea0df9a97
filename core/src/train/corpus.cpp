#include "train/corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "attnscope/error.h"

namespace fs = std::filesystem;

namespace attnscope::core {

std::vector<Document> loadCorpus(const CorpusOptions& o) {
    if (!fs::is_directory(o.dir)) fail(ErrorKind::NotFound, o.dir + ": corpus directory not found");
    std::vector<std::string> paths;
    for (auto it = fs::recursive_directory_iterator(o.dir); it != fs::recursive_directory_iterator(); ++it) {
        // Hidden folders (e.g. the npm cache the corpus came from) are not documents.
        if (it->path().filename().string().rfind('.', 0) == 0) {
            if (it->is_directory()) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file() && it->path().extension() == ".txt") paths.push_back(it->path().string());
    }
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) fail(ErrorKind::NotFound, o.dir + ": no .txt documents");
    std::vector<Document> docs;
    for (size_t i = 0; i < paths.size(); ++i) {
        std::ifstream in(paths[i], std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        Document d{fs::relative(paths[i], o.dir).string(), ss.str(), false};
        d.heldOut = o.heldOutEvery > 0 && int(i % size_t(o.heldOutEvery)) == o.heldOutEvery - 1;
        if (!d.text.empty()) docs.push_back(std::move(d));
    }
    return docs;
}

std::vector<std::vector<int32_t>> chunkDocuments(const std::vector<std::vector<int32_t>>& docs, int length,
                                                 int32_t bos, int32_t eos) {
    std::vector<std::vector<int32_t>> out;
    const size_t body = size_t(length - 1);
    for (const auto& d : docs) {
        std::vector<int32_t> ids(d);
        ids.push_back(eos);
        for (size_t at = 0; at < ids.size(); at += body) {
            std::vector<int32_t> c{bos};
            c.insert(c.end(), ids.begin() + long(at), ids.begin() + long(std::min(ids.size(), at + body)));
            if (c.size() >= 16) out.push_back(std::move(c));  // tiny tails teach nothing
        }
    }
    return out;
}

}  // namespace attnscope::core
