// "--key value" options: the CLI's arguments, and how every front end names an analysis's
// parameters for the analysis registry (analysis_registry.h). Torch-free and Qt-free.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace attnscope {

class Options {
public:
    Options() = default;
    // argv after the verb. `flags` take no value. Throws Error(BadInput) on unknown keys.
    Options(const std::vector<std::string>& args, const std::set<std::string>& valued,
            const std::set<std::string>& flags);

    void set(const std::string& key, const std::string& value) { m_values[key] = value; }
    bool has(const std::string& key) const;
    std::string str(const std::string& key, const std::string& fallback = "") const;
    // Throw Error(BadInput) naming the key when the value does not parse.
    int integer(const std::string& key, int fallback) const;
    long long integer64(const std::string& key, long long fallback) const;
    double number(const std::string& key, double fallback) const;
    const std::map<std::string, std::string>& values() const { return m_values; }

private:
    std::map<std::string, std::string> m_values;
};

// Whole-text parses: nullopt unless all of `text` is one number (or one base-10 integer in range).
std::optional<double> parseNumber(const std::string& text);
std::optional<long long> parseInteger(const std::string& text);
// "a,b,c" into its non-empty items.
std::vector<std::string> splitList(const std::string& s);
// "a,b,c" of numbers / integers; Error(BadInput) "<what> expects comma-separated ..., got 'x'".
std::vector<double> numberList(const std::string& s, const std::string& what);
std::vector<long long> integerList(const std::string& s, const std::string& what);
// A whole file (prompts, continuations); throws Error(NotFound) naming it.
std::string readTextFile(const std::string& path);

}  // namespace attnscope
