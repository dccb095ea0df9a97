// Typed reads from config.json with messages that name the file and the key.
#pragma once
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>

namespace attnscope::core {

class ConfigJson {
public:
    ConfigJson(const nlohmann::json& j, std::string source) : m_j(j), m_source(std::move(source)) {}
    const nlohmann::json& raw() const { return m_j; }
    const std::string& source() const { return m_source; }

    bool has(const char* key) const;
    // First present key of `keys`; throws Error(BadInput) when none is present or the
    // value has the wrong type.
    int integer(std::initializer_list<const char*> keys) const;
    int integerOr(std::initializer_list<const char*> keys, int fallback) const;
    double number(std::initializer_list<const char*> keys, double fallback) const;
    bool boolean(const char* key, bool fallback) const;
    std::string string(const char* key, const std::string& fallback) const;
    // The RoPE parameters: transformers 5 writes "rope_parameters"; older files use
    // rope_theta + rope_scaling (+ partial_rotary_factor / rotary_pct).
    nlohmann::json ropeParameters() const;

private:
    const nlohmann::json& m_j;
    std::string m_source;
};

}  // namespace attnscope::core
