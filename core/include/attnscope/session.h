// Saved sessions (.attnscope): a valid safetensors file whose __metadata__ holds a JSON
// manifest and whose tensors hold every panel's computed results, so a session redraws
// without the model. Schema: docs/session-format.md. Qt-free and torch-free (attnscope_io).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnscope {

// Schema of the files this build writes; older files are migrated forward on load.
inline constexpr int kSessionSchemaVersion = 1;
// Metadata keys (values are strings, as safetensors requires).
inline constexpr const char* kSessionFormatKey = "format";          // "attnscope-session"
inline constexpr const char* kSessionFormatValue = "attnscope-session";
inline constexpr const char* kSessionManifestKey = "attnscope.manifest";  // the JSON manifest
// Limits on what a session may ask us to allocate (hostile files).
inline constexpr int64_t kSessionMaxTensorElements = int64_t(1) << 31;  // per tensor
inline constexpr int kSessionMaxTokens = 1 << 20;

// One stored result array. Tensor name in the file: "<panel>/<name>".
struct SessionTensor {
    enum class Type { F32, F64, I32, I64, U8 };
    Type type = Type::F32;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;  // little-endian, row-major

    int64_t numel() const;
    static SessionTensor f32(std::vector<int64_t> shape, const std::vector<float>& v);
    static SessionTensor f64(std::vector<int64_t> shape, const std::vector<double>& v);
    static SessionTensor i32(std::vector<int64_t> shape, const std::vector<int32_t>& v);
    static SessionTensor i64(std::vector<int64_t> shape, const std::vector<int64_t>& v);
    static SessionTensor u8(std::vector<int64_t> shape, const std::vector<uint8_t>& v);
    // Copies out; throw Error(BadInput) naming `what` when the type differs.
    std::vector<float> toF32(const std::string& what) const;
    std::vector<double> toF64(const std::string& what) const;
    std::vector<int32_t> toI32(const std::string& what) const;
    std::vector<int64_t> toI64(const std::string& what) const;
    std::vector<uint8_t> toU8(const std::string& what) const;
};
const char* sessionTensorTypeName(SessionTensor::Type t);  // "F32", ... as in safetensors

// One panel's part of a session: its parameters (a JSON object) and its results.
struct SessionSection {
    nlohmann::json params = nlohmann::json::object();
    std::map<std::string, SessionTensor> tensors;

    bool has(const std::string& name) const { return tensors.count(name) != 0; }
    // The tensor, checked: Error(BadInput) "<panel>/<name>: ..." when absent, of another
    // type, or of another shape (-1 in `shape` matches any extent).
    const SessionTensor& require(const std::string& panel, const std::string& name,
                                 SessionTensor::Type type, const std::vector<int64_t>& shape) const;
};

struct SessionModelRef {
    std::string path;       // as opened (may be absent on another machine)
    std::string tokenizer;  // llama2.c tokenizer or override; may be empty
    std::string family;     // architecture registry name (llama, gpt2, ...)
    std::string sha256;     // sessionModelFingerprint(path, tokenizer)
    std::string device = "cpu", dtype = "fp32";
    int step = -1;          // checkpoint step of a series, -1 for none
};

// Which part of which view was on screen.
struct SessionView {
    int layer = 0;
    int head = 0;          // -1: mean over heads
    int64_t token = -1;    // selected query token, -1 none
    double zoom = 1.0;     // attention map zoom (1 = whole sequence)
    std::vector<double> range;  // visible [x0, x1, y0, y1] of the attention map; empty = all
    std::vector<std::string> openPanels;  // panel ids, in dock order
    std::string currentPanel;             // the raised one
    nlohmann::json extra = nlohmann::json::object();  // view bits that fit nowhere else
};

struct Session {
    int schemaVersion = kSessionSchemaVersion;
    std::string appVersion;
    std::string created;  // ISO 8601 UTC
    SessionModelRef model;
    std::string prompt;
    std::vector<int32_t> tokenIds;
    std::vector<std::string> tokenPieces;  // as shown; same length as tokenIds (or empty)
    SessionView view;
    std::map<std::string, SessionSection> panels;  // by panel id ("attention", "sinks", ...)
};

// The manifest as written (tensors described by name, dtype and shape only).
nlohmann::json sessionManifest(const Session& session);

// Atomic save (temp file + rename): on any failure the previous file is untouched.
// Throws Error(BadInput) for an invalid session (bad panel/tensor names, sizes).
void saveSession(const std::string& path, const Session& session);
// Loads and validates everything before returning; throws Error naming the file and
// the problem (never a partially filled Session).
Session loadSession(const std::string& path);
Session loadSessionFromBuffer(std::vector<uint8_t> bytes, const std::string& label);

// Schema migration: a step turns the manifest of version N into version N + 1 (and may
// rename tensors in `tensors`). loadSession applies every step from the file's version.
using SessionMigration = std::function<void(nlohmann::json& manifest, std::map<std::string, SessionTensor>& tensors)>;
// A file newer than kSessionSchemaVersion is refused; an older one needs a step for each
// version on the way up (a missing step is an error).
void registerSessionMigration(int fromVersion, SessionMigration step);
// Applies the registered steps from manifest["schema_version"] up to `toVersion` and sets
// schema_version; throws Error(BadInput) naming `label` when a step is missing.
void migrateSessionManifest(nlohmann::json& manifest, std::map<std::string, SessionTensor>& tensors,
                            int toVersion, const std::string& label = "session");

// SHA-256 over what identifies a model without reading its weights: config.json, the
// sharded index or the safetensors header(s), the tokenizer files, and for other files
// (llama2.c) their first MiB and size. Hex. Throws Error(NotFound) when the path is absent.
std::string sessionModelFingerprint(const std::string& modelPath, const std::string& tokenizerPath = {});
std::string sha256Hex(const void* data, size_t n);

// What opening a session against a model found.
enum class SessionModelMatch { Absent, Match, Mismatch };
SessionModelMatch checkSessionModel(const SessionModelRef& ref, std::string* foundHash = nullptr);

// Current UTC time as ISO 8601 ("2026-11-22T10:15:00Z").
std::string sessionTimestampNow();

}  // namespace attnscope
