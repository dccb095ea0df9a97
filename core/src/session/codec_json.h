// Checked reads of a section's JSON parameters for the codecs: a missing key or a value of
// the wrong type or range is Error(BadInput) "<panel>: ..." (never a json exception).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "attnscope/error.h"

namespace attnscope::codec {

class JsonReader {
public:
    explicit JsonReader(std::string panel) : m_panel(std::move(panel)) {}

    [[noreturn]] void bad(const std::string& msg) const { fail(ErrorKind::BadInput, m_panel + ": " + msg); }

    const nlohmann::json& object(const nlohmann::json& j, const char* key) const {
        if (!j.is_object() || !j.contains(key) || !j[key].is_object()) bad(std::string("'") + key + "' must be an object");
        return j[key];
    }
    const nlohmann::json& array(const nlohmann::json& j, const char* key, size_t maxSize) const {
        if (!j.is_object() || !j.contains(key) || !j[key].is_array() || j[key].size() > maxSize)
            bad(std::string("'") + key + "' must be an array of at most " + std::to_string(maxSize) + " entries");
        return j[key];
    }
    std::string str(const nlohmann::json& j, const char* key) const {
        if (!j.is_object() || !j.contains(key) || !j[key].is_string()) bad(std::string("'") + key + "' must be a string");
        return j[key].get<std::string>();
    }
    bool boolean(const nlohmann::json& j, const char* key) const {
        if (!j.is_object() || !j.contains(key) || !j[key].is_boolean()) bad(std::string("'") + key + "' must be a boolean");
        return j[key].get<bool>();
    }
    double number(const nlohmann::json& j, const char* key) const {
        if (!j.is_object() || !j.contains(key) || !j[key].is_number()) bad(std::string("'") + key + "' must be a number");
        return j[key].get<double>();
    }
    int64_t integer(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi) const {
        if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) bad(std::string("'") + key + "' must be an integer");
        const int64_t v = j[key].get<int64_t>();
        if (v < lo || v > hi)
            bad(std::string("'") + key + "' = " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
        return v;
    }
    // Index of j[key] in names.
    template <class Names>
    int choice(const nlohmann::json& j, const char* key, const Names& names) const {
        const std::string v = str(j, key);
        int i = 0;
        for (const auto& n : names) {
            if (v == n) return i;
            ++i;
        }
        bad(std::string("'") + key + "' has the unknown value '" + v + "'");
    }

private:
    std::string m_panel;
};

}  // namespace attnscope::codec
