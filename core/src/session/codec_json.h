// Checked reads of a session's JSON, shared by the manifest reader (session_file.cpp) and
// every panel codec: a missing key, or a value of the wrong type or range, is
// Error(BadInput) "<where>: '<path>' ..." naming the section and the key's full path inside
// it ('result.T', 'matrices[3].name'), never a json exception. Keys read with a default may
// be absent; when present they must still have the right type.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnscope::codec {

class JsonReader {
public:
    // `j` is the object to read (null reads as an empty object; anything else that is not an
    // object is an error on the first read); `where` prefixes every message: the panel id,
    // or "<file>: manifest".
    JsonReader(const nlohmann::json& j, std::string where, std::string path = {});

    [[noreturn]] void bad(const std::string& msg) const;  // "<where>: msg"
    const nlohmann::json& raw() const { return m_j; }
    bool has(const char* key) const;
    // "'<path><key>'", as messages quote a key.
    std::string quoted(const std::string& key) const { return "'" + m_path + key + "'"; }

    JsonReader object(const char* key) const;
    const nlohmann::json& array(const char* key, size_t maxSize) const;
    // An array of objects, each read with its index in the path ("matrices[3].").
    std::vector<JsonReader> objects(const char* key, size_t maxSize) const;
    std::vector<std::string> strings(const char* key, size_t maxSize) const;
    std::vector<double> numbers(const char* key, size_t maxSize) const;
    std::vector<int64_t> integers(const char* key, size_t maxSize, int64_t lo, int64_t hi) const;
    std::map<std::string, double> numberMap(const char* key) const;  // an object of numbers

    std::string str(const char* key) const;
    std::string str(const char* key, const std::string& dflt) const;
    bool boolean(const char* key) const;
    bool boolean(const char* key, bool dflt) const;
    double number(const char* key) const;
    double number(const char* key, double dflt) const;
    int64_t integer(const char* key, int64_t lo, int64_t hi) const;
    int64_t integer(const char* key, int64_t lo, int64_t hi, int64_t dflt) const;
    uint64_t count(const char* key, uint64_t dflt) const;  // an integer in [0, 2^64)
    // Index of the value of `key` in `names`.
    template <class Names>
    int choice(const char* key, const Names& names) const {
        const std::string v = str(key);
        std::string all;
        int i = 0;
        for (const auto& n : names) {
            if (v == n) return i;
            all += std::string(i++ ? ", " : "") + n;
        }
        bad(quoted(key) + " has the unknown value '" + v.substr(0, 64) + "' (not one of " + all + ")");
    }
    // `key` must hold exactly `want` (a list fixed by this version of the format).
    void expect(const char* key, const nlohmann::json& want) const;

private:
    const nlohmann::json* find(const char* key) const;  // nullptr when absent
    // The value of `key`; absent, or not of `type`: an error saying it must be `what`.
    const nlohmann::json& need(const char* key, bool (nlohmann::json::*type)() const noexcept, const char* what) const;
    [[noreturn]] void wrongType(const std::string& path, const nlohmann::json& v, const char* what) const;

    const nlohmann::json& m_j;
    std::string m_where, m_path;
};

}  // namespace attnscope::codec
