// Safetensors reader: memory-mapped files and sharded indexes. Every byte read from a
// file is treated as hostile: sizes are bounded and checked for overflow before use, and
// all failures are attnscope::Error naming the file (and tensor, where there is one).
#include "io/safetensors.h"

#include "io/io_detail.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

namespace attnscope::io {

using namespace detail;
using nlohmann::json;

namespace {

// nlohmann silently keeps the last of duplicate keys; two header entries of one name are
// ambiguous, so duplicates are rejected. Nesting and array lengths are capped during the
// parse so hostile input cannot build a huge DOM before we get to validate it.
json parseStrictJson(const char* begin, const char* end, const std::string& file,
                     const std::string& what, size_t maxArrayLen) {
    struct Level {
        bool isArray;
        size_t count;
        std::set<std::string> keys;
    };
    std::vector<Level> stack;
    auto countElement = [&] {
        if (!stack.empty() && stack.back().isArray && ++stack.back().count > maxArrayLen)
            bad(file, what + " has an array longer than " + std::to_string(maxArrayLen) +
                          " elements");
    };
    auto cb = [&](int depth, json::parse_event_t ev, json& parsed) -> bool {
        if (depth > 64) bad(file, what + " nests deeper than 64 levels");
        switch (ev) {
        case json::parse_event_t::object_start:
        case json::parse_event_t::array_start:
            countElement();
            stack.push_back({ev == json::parse_event_t::array_start, 0, {}});
            break;
        case json::parse_event_t::object_end:
        case json::parse_event_t::array_end:
            if (!stack.empty()) stack.pop_back();
            break;
        case json::parse_event_t::key: {
            const auto& k = parsed.get_ref<const std::string&>();
            if (!stack.empty() && !stack.back().keys.insert(k).second)
                bad(file, what + " has the key " + quote(k) + " twice");
            break;
        }
        case json::parse_event_t::value:
            countElement();
            break;
        }
        return true;
    };
    try {
        return json::parse(begin, end, cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
    } catch (const json::exception& e) {
        bad(file, what + " is not valid JSON: " + e.what());
    }
}

// A JSON integer >= 0 that fits int64 (shapes are int64 downstream), or nullopt.
std::optional<uint64_t> asIndex(const json& j) {
    if (j.is_number_unsigned()) {
        uint64_t v = j.get<uint64_t>();
        if (v <= uint64_t(std::numeric_limits<int64_t>::max())) return v;
    } else if (j.is_number_integer()) {
        int64_t v = j.get<int64_t>();
        if (v >= 0) return uint64_t(v);
    }
    return std::nullopt;
}

// Dtypes in the safetensors spec that we do not load: Unsupported, not BadInput.
bool isSpecDType(std::string_view s) {
    static const char* const kOther[] = {"U16", "U32", "U64", "F8_E8M0", "F6_E2M3", "F6_E3M2",
                                         "F4", "C64"};
    return std::any_of(std::begin(kOther), std::end(kOther),
                       [&](const char* o) { return s == o; });
}

TensorEntry parseEntry(const std::string& file, const std::string& name, const json& v,
                       const uint8_t* data, uint64_t dataSize) {
    const std::string where = "tensor " + quote(name);
    if (!v.is_object()) bad(file, where + ": header entry is not an object");

    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) bad(file, where + ": missing \"dtype\" string");
    const auto& dtName = dt->get_ref<const std::string&>();
    auto dtype = stDTypeFromName(dtName);
    if (!dtype) {
        if (isSpecDType(dtName))
            fail(ErrorKind::Unsupported,
                 file + ": " + where + ": dtype " + dtName + " is not supported");
        bad(file, where + ": unknown dtype " + quote(dtName));
    }

    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array()) bad(file, where + ": missing \"shape\" array");
    if (sh->size() > kMaxRank)
        bad(file, where + ": rank " + std::to_string(sh->size()) + " exceeds " +
                      std::to_string(kMaxRank));
    TensorEntry t;
    t.name = name;
    t.dtype = *dtype;
    t.file = file;
    for (const auto& d : *sh) {
        auto dim = asIndex(d);
        if (!dim) bad(file, where + ": shape has a dim that is not an integer in [0, 2^63)");
        t.shape.push_back(int64_t(*dim));
    }
    auto need = byteSize(t.shape, stDTypeSize(t.dtype));
    if (!need) bad(file, where + ": shape " + formatShape(t.shape) + " overflows");

    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2)
        bad(file, where + ": missing \"data_offsets\" [begin, end]");
    auto b = asIndex((*off)[0]), e = asIndex((*off)[1]);
    if (!b || !e) bad(file, where + ": data_offsets are not integers in [0, 2^63)");
    if (*b > *e) bad(file, where + ": data_offsets begin " + std::to_string(*b) + " > end " + std::to_string(*e));
    if (*e > dataSize)
        bad(file, where + ": data_offsets end " + std::to_string(*e) +
                      " lies past the data section (" + std::to_string(dataSize) + " bytes)");
    if (*e - *b != *need)
        bad(file, where + ": shape " + formatShape(t.shape) + " of " + stDTypeName(t.dtype) +
                      " needs " + std::to_string(*need) + " bytes but data_offsets span " +
                      std::to_string(*e - *b));
    t.data = data + *b;
    t.nbytes = *need;
    return t;
}

// Reads a whole small file (index json), bounded so a hostile path cannot exhaust memory.
std::string readSmallFile(const std::string& path, uint64_t maxBytes) {
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    if (f.fd < 0) {
        int e = errno;
        fail(kindForErrno(e), path + ": cannot open: " + errnoText(e));
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) bad(path, "not a regular file");
    if (uint64_t(st.st_size) > maxBytes)
        bad(path, "file of " + std::to_string(st.st_size) + " bytes is larger than the limit of " +
                      std::to_string(maxBytes));
    std::string out(size_t(st.st_size), '\0');
    size_t got = 0;
    while (got < out.size()) {
        ssize_t r = ::read(f.fd, out.data() + got, out.size() - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) bad(path, "read failed: " + errnoText(errno));
        if (r == 0) break;  // shrank while reading
        got += size_t(r);
    }
    out.resize(got);
    return out;
}

// Shard names in an index must be plain names of files in the index's directory.
bool isPlainFileName(const std::string& s) {
    return !s.empty() && s != "." && s != ".." && s.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

}  // namespace

// ---- dtypes ---------------------------------------------------------------------------

size_t stDTypeSize(StDType t) {
    switch (t) {
    case StDType::F64: case StDType::I64: return 8;
    case StDType::F32: case StDType::I32: return 4;
    case StDType::F16: case StDType::BF16: case StDType::I16: return 2;
    case StDType::I8: case StDType::U8: case StDType::BOOL:
    case StDType::F8_E4M3: case StDType::F8_E5M2: return 1;
    }
    return 1;
}

const char* stDTypeName(StDType t) {
    switch (t) {
    case StDType::F64: return "F64";
    case StDType::F32: return "F32";
    case StDType::F16: return "F16";
    case StDType::BF16: return "BF16";
    case StDType::I64: return "I64";
    case StDType::I32: return "I32";
    case StDType::I16: return "I16";
    case StDType::I8: return "I8";
    case StDType::U8: return "U8";
    case StDType::BOOL: return "BOOL";
    case StDType::F8_E4M3: return "F8_E4M3";
    case StDType::F8_E5M2: return "F8_E5M2";
    }
    return "?";
}

std::optional<StDType> stDTypeFromName(std::string_view name) {
    for (StDType t : {StDType::F64, StDType::F32, StDType::F16, StDType::BF16, StDType::I64,
                      StDType::I32, StDType::I16, StDType::I8, StDType::U8, StDType::BOOL,
                      StDType::F8_E4M3, StDType::F8_E5M2}) {
        if (name == stDTypeName(t)) return t;
    }
    return std::nullopt;
}

int64_t TensorEntry::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;  // validated against overflow when parsed
    return n;
}

std::string formatShape(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// ---- SafetensorsFile --------------------------------------------------------------------

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
    // O_NONBLOCK: opening a FIFO must not hang; it has no effect on regular files.
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    if (f.fd < 0) {
        int e = errno;
        fail(kindForErrno(e), path + ": cannot open: " + errnoText(e));
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) bad(path, "cannot stat: " + errnoText(errno));
    if (!S_ISREG(st.st_mode)) bad(path, "not a regular file");
    std::unique_ptr<SafetensorsFile> sf(new SafetensorsFile);
    sf->m_path = path;
    const size_t size = size_t(st.st_size);
    if (size >= 8) {
        // MAP_PRIVATE read-only; a file truncated by someone else while mapped can still
        // raise SIGBUS, which no userspace parser can prevent.
        void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, f.fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            fail(e == ENOMEM ? ErrorKind::OutOfMemory : ErrorKind::BadInput,
                 path + ": mmap failed: " + errnoText(e));
        }
        sf->m_map = m;
        sf->m_mapSize = size;
    }
    sf->parse(static_cast<const uint8_t*>(sf->m_map), size);
    return sf;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::fromBuffer(std::vector<uint8_t> bytes,
                                                             const std::string& label) {
    std::unique_ptr<SafetensorsFile> sf(new SafetensorsFile);
    sf->m_path = label;
    sf->m_buffer = std::move(bytes);
    sf->parse(sf->m_buffer.data(), sf->m_buffer.size());
    return sf;
}

SafetensorsFile::~SafetensorsFile() {
    if (m_map) ::munmap(m_map, m_mapSize);
}

void SafetensorsFile::parse(const uint8_t* base, size_t size) {
    const std::string& f = m_path;
    if (size == 0) bad(f, "file is empty, not a safetensors file");
    if (size < 8)
        bad(f, "file has " + std::to_string(size) +
                   " bytes, fewer than the 8-byte safetensors header length");
    const uint64_t n = readLE64(base);
    if (n > kMaxHeaderBytes)
        bad(f, "header length " + std::to_string(n) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes");
    if (n > size - 8)
        bad(f, "header length " + std::to_string(n) + " runs past the end of the file (" +
                   std::to_string(size) + " bytes)");
    const char* h = reinterpret_cast<const char*>(base + 8);
    if (n < 2 || h[0] != '{') bad(f, "header does not start with a JSON object");
    // Shapes have <= kMaxRank dims and offsets 2 entries; no longer array is legitimate.
    const json header = parseStrictJson(h, h + n, f, "header", kMaxRank);
    if (!header.is_object()) bad(f, "header is not a JSON object");

    const uint8_t* data = base + 8 + n;
    const uint64_t dataSize = size - 8 - n;
    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__") {
            if (!value.is_object()) bad(f, "\"__metadata__\" is not an object");
            for (const auto& [mk, mv] : value.items()) {
                if (!mv.is_string()) bad(f, "metadata value " + quote(mk) + " is not a string");
                m_metadata.emplace(mk, mv.get<std::string>());
            }
            continue;
        }
        m_tensors.push_back(parseEntry(f, key, value, data, dataSize));
    }
    std::sort(m_tensors.begin(), m_tensors.end(),
              [](const TensorEntry& a, const TensorEntry& b) { return a.name < b.name; });

    // Overlapping byte ranges would alias two tensors; empty ranges alias nothing.
    std::vector<const TensorEntry*> byOffset;
    for (const auto& t : m_tensors)
        if (t.nbytes) byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(),
              [](const TensorEntry* a, const TensorEntry* b) { return a->data < b->data; });
    for (size_t i = 1; i < byOffset.size(); ++i) {
        const TensorEntry* prev = byOffset[i - 1];
        if (byOffset[i]->data < prev->data + prev->nbytes)
            bad(f, "tensors " + quote(prev->name) + " and " + quote(byOffset[i]->name) +
                       " have overlapping data_offsets");
    }
}

const std::vector<TensorEntry>& SafetensorsFile::tensors() const { return m_tensors; }

const TensorEntry* SafetensorsFile::find(std::string_view name) const {
    auto it = std::lower_bound(m_tensors.begin(), m_tensors.end(), name,
                               [](const TensorEntry& t, std::string_view n) { return t.name < n; });
    return (it != m_tensors.end() && it->name == name) ? &*it : nullptr;
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return m_metadata; }
const std::string& SafetensorsFile::path() const { return m_path; }

// ---- WeightSet ----------------------------------------------------------------------------

WeightSet::~WeightSet() = default;

std::unique_ptr<WeightSet> WeightSet::openFile(const std::string& safetensorsPath) {
    std::unique_ptr<WeightSet> w(new WeightSet);
    w->m_describe = safetensorsPath;
    w->m_files.push_back(SafetensorsFile::open(safetensorsPath));
    for (const auto& t : w->m_files.back()->tensors()) w->m_index.emplace(t.name, &t);
    w->m_metadata = w->m_files.back()->metadata();
    return w;
}

std::unique_ptr<WeightSet> WeightSet::openDirectory(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(dir, ec);
    if (!fs::exists(st)) fail(ErrorKind::NotFound, dir + ": no such model directory");
    if (fs::is_regular_file(st))  // forgiving: a file path opens as what its name says
        return endsWith(dir, ".json") ? openIndex(dir) : openFile(dir);
    if (!fs::is_directory(st)) bad(dir, "not a directory");
    // Same preference as transformers: the single file first, then the sharded index.
    const fs::path single = fs::path(dir) / "model.safetensors";
    if (fs::exists(single, ec)) return openFile(single.string());
    const fs::path index = fs::path(dir) / "model.safetensors.index.json";
    if (fs::exists(index, ec)) return openIndex(index.string());
    fail(ErrorKind::NotFound,
         dir + ": contains neither model.safetensors nor model.safetensors.index.json");
}

std::unique_ptr<WeightSet> WeightSet::openIndex(const std::string& indexPath) {
    const std::string text = readSmallFile(indexPath, kMaxHeaderBytes);
    const json idx = parseStrictJson(text.data(), text.data() + text.size(), indexPath,
                                     "index", size_t(1) << 20);
    if (!idx.is_object()) bad(indexPath, "index is not a JSON object");
    auto wm = idx.find("weight_map");
    if (wm == idx.end() || !wm->is_object()) bad(indexPath, "missing \"weight_map\" object");
    if (wm->empty()) bad(indexPath, "\"weight_map\" lists no tensors");

    std::unique_ptr<WeightSet> w(new WeightSet);
    w->m_describe = indexPath;
    auto md = idx.find("metadata");
    if (md != idx.end() && md->is_object()) {
        for (const auto& [k, v] : md->items()) {  // HF writes numbers (total_size) here
            if (v.is_string()) w->m_metadata.emplace(k, v.get<std::string>());
            else if (v.is_primitive() && !v.is_null()) w->m_metadata.emplace(k, v.dump());
        }
    }

    const std::filesystem::path dir = std::filesystem::path(indexPath).parent_path();
    std::map<std::string, const SafetensorsFile*> shards;  // each shard opened once
    for (const auto& [tensor, shardJ] : wm->items()) {
        if (!shardJ.is_string())
            bad(indexPath, "weight_map entry of tensor " + quote(tensor) + " is not a file name");
        const auto& shard = shardJ.get_ref<const std::string&>();
        if (!isPlainFileName(shard))
            bad(indexPath, "shard " + quote(shard) + " of tensor " + quote(tensor) +
                               " is not a plain file name in the index's directory");
        auto it = shards.find(shard);
        if (it == shards.end()) {
            const std::string shardPath = (dir / shard).string();
            try {
                w->m_files.push_back(SafetensorsFile::open(shardPath));
            } catch (const Error& e) {
                fail(e.kind(), indexPath + ": shard " + quote(shard) + " (listed for tensor " +
                                   quote(tensor) + "): " + e.what());
            }
            it = shards.emplace(shard, w->m_files.back().get()).first;
        }
        const TensorEntry* t = it->second->find(tensor);
        if (!t)
            bad(indexPath, "tensor " + quote(tensor) + " is mapped to shard " + quote(shard) +
                               " but " + it->second->path() + " does not contain it");
        w->m_index.emplace(tensor, t);
    }
    return w;
}

const TensorEntry* WeightSet::find(std::string_view name) const {
    auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : it->second;
}

const TensorEntry& WeightSet::require(std::string_view name) const {
    const TensorEntry* t = find(name);
    if (!t) fail(ErrorKind::NotFound, "tensor " + quote(name) + " not found in " + m_describe);
    return *t;
}

const TensorEntry& WeightSet::require(std::string_view name,
                                      const std::vector<int64_t>& shape) const {
    const TensorEntry& t = require(name);
    if (t.shape != shape)
        bad(t.file, "tensor " + quote(name) + " has the wrong shape: expected " +
                        formatShape(shape) + ", file has " + formatShape(t.shape));
    return t;
}

std::vector<std::string> WeightSet::names() const {
    std::vector<std::string> out;
    out.reserve(m_index.size());
    for (const auto& kv : m_index) out.push_back(kv.first);  // std::map: already sorted
    return out;
}

std::string WeightSet::describe() const { return m_describe; }
const std::map<std::string, std::string>& WeightSet::metadata() const { return m_metadata; }
size_t WeightSet::fileCount() const { return m_files.size(); }

}  // namespace attnscope::io
