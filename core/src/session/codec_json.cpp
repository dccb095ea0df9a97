// Checked reads of a session's JSON (codec_json.h).
#include "session/codec_json.h"

#include "attnscope/error.h"

namespace attnscope::codec {

using nlohmann::json;

namespace {
// Whether an integer value lies in [lo, hi] (unsigned values past INT64_MAX included).
bool inRange(const json& v, int64_t lo, int64_t hi) {
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        return hi >= 0 && u <= uint64_t(hi) && (lo <= 0 || u >= uint64_t(lo));
    }
    const int64_t x = v.get<int64_t>();
    return x >= lo && x <= hi;
}
std::string range(int64_t lo, int64_t hi) { return "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]"; }
}  // namespace

JsonReader::JsonReader(const json& j, std::string where, std::string path)
    : m_j(j), m_where(std::move(where)), m_path(std::move(path)) {}

void JsonReader::bad(const std::string& msg) const { fail(ErrorKind::BadInput, m_where + ": " + msg); }

const json* JsonReader::find(const char* key) const {
    if (m_j.is_null()) return nullptr;
    if (!m_j.is_object()) {
        if (m_path.empty()) bad("the parameters must be a JSON object");
        wrongType(m_path.substr(0, m_path.size() - 1), m_j, "an object");
    }
    auto it = m_j.find(key);
    return it == m_j.end() ? nullptr : &*it;
}

bool JsonReader::has(const char* key) const { return find(key) != nullptr; }

void JsonReader::wrongType(const std::string& path, const json& v, const char* what) const {
    const std::string got = v.is_array()    ? std::string("an array")
                            : v.is_object() ? std::string("an object")
                                            : v.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 40);
    bad("'" + path + "' must be " + what + ", not " + got);
}

const json& JsonReader::need(const char* key, bool (json::*type)() const noexcept, const char* what) const {
    const json* v = find(key);
    if (!v) bad(quoted(key) + " is missing (it must be " + what + ")");
    if (!((*v).*type)()) wrongType(m_path + key, *v, what);
    return *v;
}

JsonReader JsonReader::object(const char* key) const {
    return JsonReader(need(key, &json::is_object, "an object"), m_where, m_path + key + ".");
}

const json& JsonReader::array(const char* key, size_t maxSize) const {
    const json& a = need(key, &json::is_array, "an array");
    if (a.size() > maxSize)
        bad(quoted(key) + " holds " + std::to_string(a.size()) + " entries, more than " + std::to_string(maxSize));
    return a;
}

std::vector<JsonReader> JsonReader::objects(const char* key, size_t maxSize) const {
    std::vector<JsonReader> out;
    size_t i = 0;
    for (const json& v : array(key, maxSize)) {
        const std::string path = m_path + key + "[" + std::to_string(i++) + "]";
        if (!v.is_object()) wrongType(path, v, "an object");
        out.emplace_back(v, m_where, path + ".");
    }
    return out;
}

std::vector<std::string> JsonReader::strings(const char* key, size_t maxSize) const {
    std::vector<std::string> out;
    for (const json& v : array(key, maxSize)) {
        if (!v.is_string()) wrongType(m_path + key + "[" + std::to_string(out.size()) + "]", v, "a string");
        out.push_back(v.get<std::string>());
    }
    return out;
}

std::vector<double> JsonReader::numbers(const char* key, size_t maxSize) const {
    std::vector<double> out;
    for (const json& v : array(key, maxSize)) {
        if (!v.is_number()) wrongType(m_path + key + "[" + std::to_string(out.size()) + "]", v, "a number");
        out.push_back(v.get<double>());
    }
    return out;
}

std::vector<int64_t> JsonReader::integers(const char* key, size_t maxSize, int64_t lo, int64_t hi) const {
    std::vector<int64_t> out;
    for (const json& v : array(key, maxSize)) {
        const std::string path = m_path + key + "[" + std::to_string(out.size()) + "]";
        if (!v.is_number_integer() || !inRange(v, lo, hi))
            wrongType(path, v, ("an integer in " + range(lo, hi)).c_str());
        out.push_back(v.get<int64_t>());
    }
    return out;
}

std::map<std::string, double> JsonReader::numberMap(const char* key) const {
    std::map<std::string, double> out;
    for (const auto& item : need(key, &json::is_object, "an object").items()) {
        if (!item.value().is_number()) wrongType(m_path + key + "." + item.key(), item.value(), "a number");
        out[item.key()] = item.value().get<double>();
    }
    return out;
}

std::string JsonReader::str(const char* key) const {
    return need(key, &json::is_string, "a string").get<std::string>();
}
std::string JsonReader::str(const char* key, const std::string& dflt) const { return has(key) ? str(key) : dflt; }
bool JsonReader::boolean(const char* key) const { return need(key, &json::is_boolean, "a boolean").get<bool>(); }
bool JsonReader::boolean(const char* key, bool dflt) const { return has(key) ? boolean(key) : dflt; }
double JsonReader::number(const char* key) const { return need(key, &json::is_number, "a number").get<double>(); }
double JsonReader::number(const char* key, double dflt) const { return has(key) ? number(key) : dflt; }

int64_t JsonReader::integer(const char* key, int64_t lo, int64_t hi) const {
    const json& v = need(key, &json::is_number_integer, "an integer");
    if (!inRange(v, lo, hi)) bad(quoted(key) + " = " + v.dump() + " is outside " + range(lo, hi));
    return v.get<int64_t>();
}

int64_t JsonReader::integer(const char* key, int64_t lo, int64_t hi, int64_t dflt) const {
    return has(key) ? integer(key, lo, hi) : dflt;
}

uint64_t JsonReader::count(const char* key, uint64_t dflt) const {
    if (!has(key)) return dflt;
    const json& v = need(key, &json::is_number_integer, "a non-negative integer");
    if (!v.is_number_unsigned() && v.get<int64_t>() < 0) wrongType(m_path + key, v, "a non-negative integer");
    return v.get<uint64_t>();
}

void JsonReader::expect(const char* key, const json& want) const {
    const json* v = find(key);
    if (!v || *v != want) bad(quoted(key) + " differs from this version's " + want.dump());
}

}  // namespace attnscope::codec
