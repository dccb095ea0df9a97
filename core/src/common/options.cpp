#include "attnscope/options.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "attnscope/error.h"

namespace attnscope {

Options::Options(const std::vector<std::string>& args, const std::set<std::string>& valued,
                 const std::set<std::string>& flags) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (flags.count(a)) {
            m_values[a] = "1";
            continue;
        }
        if (!valued.count(a)) fail(ErrorKind::BadInput, "unknown option '" + a + "' (see --help)");
        if (i + 1 >= args.size()) fail(ErrorKind::BadInput, "option " + a + " needs a value");
        m_values[a] = args[++i];
    }
}

bool Options::has(const std::string& key) const { return m_values.count(key) > 0; }

std::string Options::str(const std::string& key, const std::string& fallback) const {
    auto it = m_values.find(key);
    return it == m_values.end() ? fallback : it->second;
}

std::optional<double> parseNumber(const std::string& text) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end) return std::nullopt;
    return v;
}

std::optional<long long> parseInteger(const std::string& text) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end || errno) return std::nullopt;
    return v;
}

long long Options::integer64(const std::string& key, long long fallback) const {
    if (!has(key)) return fallback;
    const auto v = parseInteger(str(key));
    if (!v) fail(ErrorKind::BadInput, key + " expects an integer, got '" + str(key) + "'");
    return *v;
}

int Options::integer(const std::string& key, int fallback) const {
    const long long v = integer64(key, fallback);
    if (v < -2147483647LL || v > 2147483647LL) fail(ErrorKind::BadInput, key + " is out of range");
    return int(v);
}

double Options::number(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const auto v = parseNumber(str(key));
    if (!v) fail(ErrorKind::BadInput, key + " expects a number, got '" + str(key) + "'");
    return *v;
}

std::vector<std::string> splitList(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

std::vector<double> numberList(const std::string& s, const std::string& what) {
    std::vector<double> out;
    for (const std::string& item : splitList(s)) {
        const auto v = parseNumber(item);
        if (!v) fail(ErrorKind::BadInput, what + " expects comma-separated numbers, got '" + item + "'");
        out.push_back(*v);
    }
    return out;
}

std::vector<long long> integerList(const std::string& s, const std::string& what) {
    std::vector<long long> out;
    for (const std::string& item : splitList(s)) {
        const auto v = parseInteger(item);
        if (!v) fail(ErrorKind::BadInput, what + " expects comma-separated integers, got '" + item + "'");
        out.push_back(*v);
    }
    return out;
}

std::string readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(ErrorKind::NotFound, path + ": cannot open file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace attnscope
