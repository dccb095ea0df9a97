#include "arch/config/config_json.h"

#include "attnscope/error.h"

namespace attnscope::core {

bool ConfigJson::has(const char* key) const {
    return m_j.contains(key) && !m_j.at(key).is_null();
}

int ConfigJson::integer(std::initializer_list<const char*> keys) const {
    for (const char* k : keys) {
        if (!has(k)) continue;
        const auto& v = m_j.at(k);
        if (!v.is_number_integer())
            fail(ErrorKind::BadInput, m_source + ": \"" + k + "\" must be an integer");
        const auto x = v.get<int64_t>();
        if (x < INT32_MIN || x > INT32_MAX)
            fail(ErrorKind::BadInput, m_source + ": \"" + k + "\" is out of range");
        return int(x);
    }
    fail(ErrorKind::BadInput, m_source + ": missing \"" + std::string(*keys.begin()) + "\"");
}

int ConfigJson::integerOr(std::initializer_list<const char*> keys, int fallback) const {
    for (const char* k : keys)
        if (has(k)) return integer({k});
    return fallback;
}

double ConfigJson::number(std::initializer_list<const char*> keys, double fallback) const {
    for (const char* k : keys) {
        if (!has(k)) continue;
        if (!m_j.at(k).is_number())
            fail(ErrorKind::BadInput, m_source + ": \"" + k + "\" must be a number");
        return m_j.at(k).get<double>();
    }
    return fallback;
}

bool ConfigJson::boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!m_j.at(key).is_boolean())
        fail(ErrorKind::BadInput, m_source + ": \"" + key + "\" must be true or false");
    return m_j.at(key).get<bool>();
}

std::string ConfigJson::string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!m_j.at(key).is_string())
        fail(ErrorKind::BadInput, m_source + ": \"" + key + "\" must be a string");
    return m_j.at(key).get<std::string>();
}

nlohmann::json ConfigJson::ropeParameters() const {
    nlohmann::json p = nlohmann::json::object();
    if (has("rope_scaling")) {
        if (!m_j.at("rope_scaling").is_object())
            fail(ErrorKind::BadInput, m_source + ": \"rope_scaling\" must be an object");
        p = m_j.at("rope_scaling");
    }
    if (has("rope_parameters")) {
        if (!m_j.at("rope_parameters").is_object())
            fail(ErrorKind::BadInput, m_source + ": \"rope_parameters\" must be an object");
        p.update(m_j.at("rope_parameters"));
    }
    for (const char* k : {"rope_theta", "rotary_emb_base", "partial_rotary_factor", "rotary_pct"})
        if (has(k) && !p.contains(k)) p[k] = m_j.at(k);
    return p;
}

}  // namespace attnscope::core
