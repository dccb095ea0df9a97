// Safetensors writer: validate and build the header, then replace the file atomically.
#include "io/safetensors.h"

#include "io/atomic_file.h"
#include "io/io_detail.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace attnscope::io {

using namespace detail;
using nlohmann::json;

void writeSafetensors(const std::string& path, const std::vector<NamedBuffer>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    // Validate everything and build the header before touching the filesystem.
    std::vector<const NamedBuffer*> order;
    for (const auto& t : tensors) order.push_back(&t);
    std::sort(order.begin(), order.end(),
              [](const NamedBuffer* a, const NamedBuffer* b) { return a->name < b->name; });
    json header = json::object();
    if (!metadata.empty()) {
        json m = json::object();
        for (const auto& [k, v] : metadata) m[k] = v;
        header["__metadata__"] = std::move(m);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        const NamedBuffer& t = *order[i];
        if (t.name == "__metadata__") bad(path, "a tensor cannot be named \"__metadata__\"");
        if (i > 0 && order[i - 1]->name == t.name) bad(path, "tensor " + quote(t.name) + " given twice");
        if (t.shape.size() > kMaxRank) bad(path, "tensor " + quote(t.name) + ": rank exceeds 8");
        auto need = byteSize(t.shape, stDTypeSize(t.dtype));
        if (!need) bad(path, "tensor " + quote(t.name) + ": invalid shape " + formatShape(t.shape));
        if (*need != t.bytes.size())
            bad(path, "tensor " + quote(t.name) + ": shape " + formatShape(t.shape) + " of " +
                          stDTypeName(t.dtype) + " needs " + std::to_string(*need) +
                          " bytes, buffer has " + std::to_string(t.bytes.size()));
        header[t.name] = {{"dtype", stDTypeName(t.dtype)},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + *need}}};
        offset += *need;
    }
    std::string hs;
    try {
        hs = header.dump();
    } catch (const json::exception&) {
        bad(path, "a tensor name or metadata string is not valid UTF-8");
    }
    hs.append((8 - hs.size() % 8) % 8, ' ');  // the spec's padding: data starts 8-aligned
    if (hs.size() > kMaxHeaderBytes) bad(path, "header would exceed the 100 MB limit");
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(hs.size()) >> (8 * i));

    std::vector<std::pair<const void*, size_t>> chunks = {{len, sizeof len}, {hs.data(), hs.size()}};
    for (const NamedBuffer* t : order) chunks.push_back({t->bytes.data(), t->bytes.size()});
    writeFileAtomic(path, chunks);
}

}  // namespace attnscope::io
