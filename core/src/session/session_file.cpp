// Reading and writing .attnscope session files: the manifest in __metadata__, the results
// as "<panel>/<name>" tensors. Everything is validated before a Session is returned.
#include "attnscope/error.h"
#include "attnscope/session.h"
#include "io/safetensors.h"
#include "session/codec_json.h"

#include <chrono>
#include <ctime>
#include <mutex>
#include <set>

namespace attnscope {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& file, const std::string& msg) {
    fail(ErrorKind::BadInput, file + ": " + msg);
}

io::StDType toSt(SessionTensor::Type t) {
    switch (t) {
    case SessionTensor::Type::F32: return io::StDType::F32;
    case SessionTensor::Type::F64: return io::StDType::F64;
    case SessionTensor::Type::I32: return io::StDType::I32;
    case SessionTensor::Type::I64: return io::StDType::I64;
    case SessionTensor::Type::U8: return io::StDType::U8;
    }
    return io::StDType::U8;
}

bool fromSt(io::StDType d, SessionTensor::Type* out) {
    switch (d) {
    case io::StDType::F32: *out = SessionTensor::Type::F32; return true;
    case io::StDType::F64: *out = SessionTensor::Type::F64; return true;
    case io::StDType::I32: *out = SessionTensor::Type::I32; return true;
    case io::StDType::I64: *out = SessionTensor::Type::I64; return true;
    case io::StDType::U8: *out = SessionTensor::Type::U8; return true;
    default: return false;
    }
}

// Panel ids and tensor names: [A-Za-z0-9_.-]+, so "<panel>/<name>" splits unambiguously.
bool validName(const std::string& s) {
    if (s.empty() || s.size() > 128) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
    return true;
}

std::map<int, SessionMigration>& migrations() {
    static std::map<int, SessionMigration> steps;
    return steps;
}
std::mutex& migrationMutex() {
    static std::mutex m;
    return m;
}

json modelJson(const SessionModelRef& m) {
    return {{"path", m.path}, {"tokenizer", m.tokenizer}, {"family", m.family}, {"sha256", m.sha256},
            {"device", m.device}, {"dtype", m.dtype}, {"step", m.step}};
}

json viewJson(const SessionView& v) {
    return {{"layer", v.layer}, {"head", v.head}, {"token", v.token}, {"zoom", v.zoom}, {"range", v.range},
            {"open_panels", v.openPanels}, {"current_panel", v.currentPanel}, {"extra", v.extra}};
}

Session parseManifest(const std::string& file, const json& manifest, std::map<std::string, SessionTensor> tensors) {
    const codec::JsonReader m(manifest, file + ": manifest");
    Session s;
    s.schemaVersion = int(m.integer("schema_version", 1, kSessionSchemaVersion));
    s.appVersion = m.object("app").str("version");
    s.created = m.str("created");

    const codec::JsonReader model = m.object("model");
    s.model.path = model.str("path");
    s.model.tokenizer = model.str("tokenizer", "");
    s.model.family = model.str("family");
    s.model.sha256 = model.str("sha256");
    s.model.device = model.str("device", "");
    s.model.dtype = model.str("dtype", "");
    s.model.step = int(model.integer("step", -1, 1 << 30, -1));

    const codec::JsonReader prompt = m.object("prompt");
    s.prompt = prompt.str("text");
    for (int64_t id : prompt.integers("token_ids", size_t(kSessionMaxTokens), 0, INT32_MAX))
        s.tokenIds.push_back(int32_t(id));
    if (prompt.has("pieces")) s.tokenPieces = prompt.strings("pieces", size_t(kSessionMaxTokens));
    if (!s.tokenPieces.empty() && s.tokenPieces.size() != s.tokenIds.size())
        m.bad("'prompt.pieces' must be as long as token_ids or empty");

    const codec::JsonReader view = m.object("view");
    s.view.layer = int(view.integer("layer", 0, 1 << 16, 0));
    s.view.head = int(view.integer("head", -1, 1 << 16, 0));
    s.view.token = view.integer("token", -1, kSessionMaxTokens, -1);
    s.view.zoom = view.number("zoom", s.view.zoom);
    if (view.has("range")) {
        s.view.range = view.numbers("range", 4);
        if (!s.view.range.empty() && s.view.range.size() != 4) m.bad("'view.range' must be [x0, x1, y0, y1] or empty");
    }
    if (view.has("open_panels")) s.view.openPanels = view.strings("open_panels", 4096);
    s.view.currentPanel = view.str("current_panel", "");
    if (view.has("extra")) s.view.extra = view.object("extra").raw();

    // Every tensor the manifest lists must be in the file with that dtype and shape, and
    // the file must hold nothing else.
    const codec::JsonReader panels = m.object("panels");
    std::set<std::string> listed;
    for (const auto& entry : panels.raw().items()) {
        const std::string& id = entry.key();
        if (!validName(id)) m.bad("invalid panel id '" + id.substr(0, 64) + "'");
        const codec::JsonReader p = panels.object(id.c_str());
        SessionSection section;
        section.params = p.object("params").raw();
        const codec::JsonReader list = p.object("tensors");
        for (const auto& item : list.raw().items()) {
            const std::string& name = item.key();
            const std::string full = id + "/" + name;
            auto it = tensors.find(full);
            if (it == tensors.end())
                bad(file, "tensor '" + full.substr(0, 200) + "' is listed in the manifest but missing");
            const codec::JsonReader desc = list.object(name.c_str());  // a valid name: it is in the file
            const std::string dtype = desc.str("dtype");
            if (dtype != sessionTensorTypeName(it->second.type))
                bad(file, "tensor '" + full + "' is " + sessionTensorTypeName(it->second.type) +
                              " but the manifest says " + dtype.substr(0, 16));
            const std::vector<int64_t> shape = desc.integers("shape", 64, 0, INT64_MAX);
            if (shape != it->second.shape)
                bad(file, "tensor '" + full + "' has shape " + io::formatShape(it->second.shape) +
                              " but the manifest says " + io::formatShape(shape).substr(0, 64));
            section.tensors.emplace(name, std::move(it->second));
            listed.insert(full);
        }
        s.panels.emplace(id, std::move(section));
    }
    for (const auto& [name, t] : tensors)
        if (!listed.count(name)) bad(file, "tensor '" + name + "' is not listed in the manifest");
    return s;
}

Session fromFile(const io::SafetensorsFile& st, const std::string& file) {
    const auto& md = st.metadata();
    auto fmt = md.find(kSessionFormatKey);
    if (fmt == md.end() || fmt->second != kSessionFormatValue)
        bad(file, "not an AttnScope session (a safetensors file without \"format\": \"attnscope-session\")");
    auto man = md.find(kSessionManifestKey);
    if (man == md.end()) bad(file, "the session manifest is missing");
    json manifest = json::parse(man->second, nullptr, /*allow_exceptions=*/false);
    if (manifest.is_discarded()) bad(file, "the session manifest is not valid JSON");
    if (!manifest.is_object()) bad(file, "the session manifest is not a JSON object");

    std::map<std::string, SessionTensor> tensors;
    for (const io::TensorEntry& e : st.tensors()) {
        auto slash = e.name.find('/');
        if (slash == std::string::npos || !validName(e.name.substr(0, slash)) || !validName(e.name.substr(slash + 1)))
            bad(file, "tensor name " + e.name.substr(0, 64) + " is not <panel>/<name>");
        SessionTensor t;
        if (!fromSt(e.dtype, &t.type))
            bad(file, "tensor '" + e.name + "' has dtype " + io::stDTypeName(e.dtype) + ", sessions hold F32/F64/I32/I64/U8");
        if (e.numel() > kSessionMaxTensorElements) bad(file, "tensor '" + e.name + "' is too large");
        t.shape = e.shape;
        t.bytes.assign(e.data, e.data + e.nbytes);
        tensors.emplace(e.name, std::move(t));
    }
    migrateSessionManifest(manifest, tensors, kSessionSchemaVersion, file);
    try {
        return parseManifest(file, manifest, std::move(tensors));
    } catch (const json::exception& ex) {  // defensive: every access above is type-checked
        bad(file, std::string("the session manifest is malformed: ") + ex.what());
    }
}

}  // namespace

json sessionManifest(const Session& s) {
    json panels = json::object();
    for (const auto& [id, section] : s.panels) {
        json list = json::object();
        for (const auto& [name, t] : section.tensors)
            list[name] = {{"dtype", sessionTensorTypeName(t.type)}, {"shape", t.shape}};
        panels[id] = {{"params", section.params.is_null() ? json::object() : section.params}, {"tensors", list}};
    }
    return {{"schema_version", s.schemaVersion},
            {"app", {{"name", "AttnScope"}, {"version", s.appVersion}}},
            {"created", s.created},
            {"model", modelJson(s.model)},
            {"prompt", {{"text", s.prompt}, {"token_ids", s.tokenIds}, {"pieces", s.tokenPieces}}},
            {"view", viewJson(s.view)},
            {"panels", panels}};
}

void saveSession(const std::string& path, const Session& s) {
    std::vector<io::NamedBuffer> buffers;
    for (const auto& [id, section] : s.panels) {
        if (!validName(id)) bad(path, "invalid panel id '" + id + "'");
        if (!section.params.is_object() && !section.params.is_null())
            bad(path, "panel '" + id + "': params must be a JSON object");
        for (const auto& [name, t] : section.tensors) {
            if (!validName(name)) bad(path, "invalid tensor name '" + id + "/" + name + "'");
            buffers.push_back({id + "/" + name, toSt(t.type), t.shape, t.bytes});
        }
    }
    if (!s.tokenPieces.empty() && s.tokenPieces.size() != s.tokenIds.size())
        bad(path, "token pieces and ids differ in length");
    std::string manifest;
    try {
        manifest = sessionManifest(s).dump();
    } catch (const json::exception&) {
        bad(path, "the prompt, a token piece or a parameter is not valid UTF-8");
    }
    // writeSafetensors validates shapes against byte counts and writes temp + rename.
    io::writeSafetensors(path, buffers, {{kSessionFormatKey, kSessionFormatValue}, {kSessionManifestKey, manifest}});
}

Session loadSession(const std::string& path) {
    auto st = io::SafetensorsFile::open(path);
    return fromFile(*st, path);
}

Session loadSessionFromBuffer(std::vector<uint8_t> bytes, const std::string& label) {
    auto st = io::SafetensorsFile::fromBuffer(std::move(bytes), label);
    return fromFile(*st, label);
}

void registerSessionMigration(int fromVersion, SessionMigration step) {
    std::lock_guard lock(migrationMutex());
    migrations()[fromVersion] = std::move(step);
}

void migrateSessionManifest(json& manifest, std::map<std::string, SessionTensor>& tensors, int toVersion,
                            const std::string& file) {
    const codec::JsonReader m(manifest, file + ": manifest");
    int64_t v = m.integer("schema_version", INT64_MIN, INT64_MAX);
    if (v < 1) bad(file, "schema version " + std::to_string(v) + " is invalid");
    if (v > toVersion)
        bad(file, "schema version " + std::to_string(v) + " is newer than this AttnScope reads (" +
                      std::to_string(toVersion) + "); update AttnScope");
    std::lock_guard lock(migrationMutex());
    while (v < toVersion) {
        auto it = migrations().find(int(v));
        if (it == migrations().end()) bad(file, "no migration from schema version " + std::to_string(v));
        it->second(manifest, tensors);
        manifest["schema_version"] = ++v;
    }
}

std::string sessionTimestampNow() {
    std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace attnscope
