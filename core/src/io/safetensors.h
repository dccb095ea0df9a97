// Safetensors reading (memory-mapped, validated against hostile input), atomic writing,
// sharded Hugging Face indexes, and sniffing what kind of model file a path holds.
// Qt-free and torch-free: consumers copy tensor bytes out (data may be unaligned).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnscope::io {

enum class StDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };
size_t stDTypeSize(StDType);
const char* stDTypeName(StDType);  // "F32", "BF16", ... as in the format
// Inverse of stDTypeName; nullopt for names we do not handle.
std::optional<StDType> stDTypeFromName(std::string_view name);

// Limits applied to every file we read (hostile input must not make us allocate wildly).
inline constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;
inline constexpr size_t kMaxRank = 8;

struct TensorEntry {
    std::string name;
    StDType dtype;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;  // points into the mapping, valid while the owner lives
    uint64_t nbytes = 0;
    std::string file;  // path of the file holding it
    int64_t numel() const;
};

// "[a, b, c]", as used in error messages.
std::string formatShape(const std::vector<int64_t>& shape);

class SafetensorsFile {  // one .safetensors file, memory-mapped read-only
public:
    static std::unique_ptr<SafetensorsFile> open(const std::string& path);
    static std::unique_ptr<SafetensorsFile> fromBuffer(std::vector<uint8_t> bytes,
                                                       const std::string& label);  // tests, fuzzing
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::vector<TensorEntry>& tensors() const;  // sorted by name
    const TensorEntry* find(std::string_view name) const;        // nullptr if absent
    const std::map<std::string, std::string>& metadata() const;  // "__metadata__" (string values only)
    const std::string& path() const;

private:
    SafetensorsFile() = default;
    void parse(const uint8_t* base, size_t size);

    std::string m_path;
    std::vector<TensorEntry> m_tensors;
    std::map<std::string, std::string> m_metadata;
    void* m_map = nullptr;  // mmap base when opened from disk
    size_t m_mapSize = 0;
    std::vector<uint8_t> m_buffer;  // owner of the bytes for fromBuffer
};

class WeightSet {  // all tensors of a model: one file or a sharded index
public:
    static std::unique_ptr<WeightSet> openFile(const std::string& safetensorsPath);
    // dir/model.safetensors, or dir/model.safetensors.index.json with its shards (the
    // single file wins when both exist, as in transformers). A file path is accepted too:
    // *.json opens as an index, anything else as one safetensors file.
    static std::unique_ptr<WeightSet> openDirectory(const std::string& dir);
    // A model.safetensors.index.json (or any index file) with shards beside it.
    static std::unique_ptr<WeightSet> openIndex(const std::string& indexPath);
    ~WeightSet();

    const TensorEntry* find(std::string_view name) const;
    // throws Error(NotFound) naming the tensor and the model path when absent, and
    // Error(BadInput) when the shape differs ("expected [a, b], file has [c, d]")
    const TensorEntry& require(std::string_view name, const std::vector<int64_t>& shape) const;
    const TensorEntry& require(std::string_view name) const;
    std::vector<std::string> names() const;  // sorted
    std::string describe() const;            // path for messages
    // Metadata of the single file, or the index's "metadata" values that are strings.
    const std::map<std::string, std::string>& metadata() const;
    size_t fileCount() const;  // 1, or the number of distinct shards

private:
    WeightSet() = default;

    std::string m_describe;
    std::vector<std::unique_ptr<SafetensorsFile>> m_files;
    std::map<std::string, const TensorEntry*, std::less<>> m_index;
    std::map<std::string, std::string> m_metadata;
};

struct NamedBuffer {
    std::string name;
    StDType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};
// Writes a valid safetensors file atomically: write to path + ".tmp-XXXXXX" in the same
// directory, fsync, rename over path. On any failure the previous file is untouched
// and the temp file removed; throws Error.
void writeSafetensors(const std::string& path, const std::vector<NamedBuffer>& tensors,
                      const std::map<std::string, std::string>& metadata);

enum class FileKind {
    Safetensors,
    SafetensorsIndex,
    PyTorchZip,
    PyTorchPickle,
    GGUF,
    Llama2c,
    Directory,
    Unknown
};
const char* fileKindName(FileKind kind);
// Looks at the magic bytes/extension: zip "PK\3\4" (torch.save), pickle protocol 0x80, "GGUF",
// .bin that is neither → Llama2c candidate. Never executes or unpickles anything.
// Throws Error(NotFound) when the path does not exist.
FileKind sniffModelFile(const std::string& path);

}  // namespace attnscope::io
