// Reading and writing .attnscope session files: the manifest in __metadata__, the results
// as "<panel>/<name>" tensors. Everything is validated before a Session is returned.
#include "attnscope/error.h"
#include "attnscope/session.h"
#include "io/safetensors.h"

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

// Typed reads of the manifest: a wrong type is a clear error, not a json exception.
struct Reader {
    std::string file;
    const json& get(const json& obj, const char* key, const std::string& where) const {
        auto it = obj.find(key);
        if (it == obj.end()) bad(file, "manifest: " + where + " lacks \"" + key + "\"");
        return *it;
    }
    std::string str(const json& obj, const char* key, const std::string& where, bool optional = false) const {
        if (optional && !obj.contains(key)) return {};
        const json& v = get(obj, key, where);
        if (!v.is_string()) bad(file, "manifest: " + where + "." + key + " must be a string");
        return v.get<std::string>();
    }
    int64_t integer(const json& obj, const char* key, const std::string& where, int64_t lo, int64_t hi,
                    std::optional<int64_t> dflt = std::nullopt) const {
        if (dflt && !obj.contains(key)) return *dflt;
        const json& v = get(obj, key, where);
        if (!v.is_number_integer()) bad(file, "manifest: " + where + "." + key + " must be an integer");
        int64_t x = v.get<int64_t>();
        if (x < lo || x > hi)
            bad(file, "manifest: " + where + "." + key + " = " + std::to_string(x) + " is out of range");
        return x;
    }
    const json& object(const json& obj, const char* key, const std::string& where) const {
        const json& v = get(obj, key, where);
        if (!v.is_object()) bad(file, "manifest: " + where + "." + key + " must be an object");
        return v;
    }
};

json modelJson(const SessionModelRef& m) {
    return {{"path", m.path}, {"tokenizer", m.tokenizer}, {"family", m.family}, {"sha256", m.sha256},
            {"device", m.device}, {"dtype", m.dtype}, {"step", m.step}};
}

json viewJson(const SessionView& v) {
    return {{"layer", v.layer}, {"head", v.head}, {"token", v.token}, {"zoom", v.zoom}, {"range", v.range},
            {"open_panels", v.openPanels}, {"current_panel", v.currentPanel}, {"extra", v.extra}};
}

Session parseManifest(const std::string& file, const json& m, std::map<std::string, SessionTensor> tensors) {
    Reader r{file};
    Session s;
    s.schemaVersion = int(r.integer(m, "schema_version", "manifest", 1, kSessionSchemaVersion));
    const json& app = r.object(m, "app", "manifest");
    s.appVersion = r.str(app, "version", "app");
    s.created = r.str(m, "created", "manifest");

    const json& model = r.object(m, "model", "manifest");
    s.model.path = r.str(model, "path", "model");
    s.model.tokenizer = r.str(model, "tokenizer", "model", true);
    s.model.family = r.str(model, "family", "model");
    s.model.sha256 = r.str(model, "sha256", "model");
    s.model.device = r.str(model, "device", "model", true);
    s.model.dtype = r.str(model, "dtype", "model", true);
    s.model.step = int(r.integer(model, "step", "model", -1, 1 << 30, -1));

    const json& prompt = r.object(m, "prompt", "manifest");
    s.prompt = r.str(prompt, "text", "prompt");
    const json& ids = r.get(prompt, "token_ids", "prompt");
    if (!ids.is_array()) bad(file, "manifest: prompt.token_ids must be an array");
    if (ids.size() > size_t(kSessionMaxTokens)) bad(file, "manifest: prompt has more than 2^20 tokens");
    for (const json& id : ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
            bad(file, "manifest: prompt.token_ids holds a value that is not a token id");
        s.tokenIds.push_back(int32_t(id.get<int64_t>()));
    }
    if (prompt.contains("pieces")) {
        const json& pieces = prompt["pieces"];
        if (!pieces.is_array() || (!pieces.empty() && pieces.size() != ids.size()))
            bad(file, "manifest: prompt.pieces must be an array as long as token_ids");
        for (const json& p : pieces) {
            if (!p.is_string()) bad(file, "manifest: prompt.pieces holds a non-string");
            s.tokenPieces.push_back(p.get<std::string>());
        }
    }

    const json& view = r.object(m, "view", "manifest");
    s.view.layer = int(r.integer(view, "layer", "view", 0, 1 << 16, 0));
    s.view.head = int(r.integer(view, "head", "view", -1, 1 << 16, 0));
    s.view.token = r.integer(view, "token", "view", -1, kSessionMaxTokens, -1);
    if (view.contains("zoom")) {
        if (!view["zoom"].is_number()) bad(file, "manifest: view.zoom must be a number");
        s.view.zoom = view["zoom"].get<double>();
    }
    if (view.contains("range")) {
        const json& range = view["range"];
        if (!range.is_array() || !(range.empty() || range.size() == 4))
            bad(file, "manifest: view.range must be [x0, x1, y0, y1] or empty");
        for (const json& x : range) {
            if (!x.is_number()) bad(file, "manifest: view.range holds a non-number");
            s.view.range.push_back(x.get<double>());
        }
    }
    if (view.contains("open_panels")) {
        const json& open = view["open_panels"];
        if (!open.is_array()) bad(file, "manifest: view.open_panels must be an array");
        for (const json& p : open) {
            if (!p.is_string()) bad(file, "manifest: view.open_panels holds a non-string");
            s.view.openPanels.push_back(p.get<std::string>());
        }
    }
    s.view.currentPanel = r.str(view, "current_panel", "view", true);
    if (view.contains("extra")) {
        if (!view["extra"].is_object()) bad(file, "manifest: view.extra must be an object");
        s.view.extra = view["extra"];
    }

    // Every tensor the manifest lists must be in the file with that dtype and shape, and
    // the file must hold nothing else.
    const json& panels = r.object(m, "panels", "manifest");
    std::set<std::string> listed;
    for (const auto& [id, p] : panels.items()) {
        if (!validName(id)) bad(file, "manifest: invalid panel id '" + id.substr(0, 64) + "'");
        if (!p.is_object()) bad(file, "manifest: panels." + id + " must be an object");
        SessionSection section;
        const json& params = r.object(p, "params", "panels." + id);
        section.params = params;
        const json& list = r.object(p, "tensors", "panels." + id);
        for (const auto& [name, desc] : list.items()) {
            const std::string full = id + "/" + name;
            if (!desc.is_object()) bad(file, "manifest: tensor '" + full + "' must be described by an object");
            auto it = tensors.find(full);
            if (it == tensors.end()) bad(file, "tensor '" + full + "' is listed in the manifest but missing");
            std::string dtype = r.str(desc, "dtype", full);
            if (dtype != sessionTensorTypeName(it->second.type))
                bad(file, "tensor '" + full + "' is " + sessionTensorTypeName(it->second.type) +
                              " but the manifest says " + dtype.substr(0, 16));
            const json& shape = r.get(desc, "shape", full);
            bool same = shape.is_array() && shape.size() == it->second.shape.size();
            for (size_t i = 0; same && i < shape.size(); ++i)
                same = shape[i].is_number_integer() && shape[i].get<int64_t>() == it->second.shape[i];
            if (!same)
                bad(file, "tensor '" + full + "' has shape " + io::formatShape(it->second.shape) +
                              " but the manifest says " + shape.dump().substr(0, 64));
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
    if (!manifest.contains("schema_version") || !manifest["schema_version"].is_number_integer())
        bad(file, "manifest lacks an integer \"schema_version\"");
    int64_t v = manifest["schema_version"].get<int64_t>();
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
