// Command-line parsing shared by every verb: --key value pairs and flags.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

namespace attnscope::app {

class CliArgs {
public:
    // argv after the verb. `flags` take no value. Throws Error(BadInput) on unknown keys.
    CliArgs(const std::vector<std::string>& args, const std::set<std::string>& valued,
            const std::set<std::string>& flags);
    bool has(const std::string& key) const;
    std::string str(const std::string& key, const std::string& fallback = "") const;
    int integer(const std::string& key, int fallback) const;
    long long integer64(const std::string& key, long long fallback) const;
    double number(const std::string& key, double fallback) const;

private:
    std::map<std::string, std::string> m_values;
};

// Options every model verb accepts.
extern const std::set<std::string> kModelOptions;  // valued
extern const std::set<std::string> kModelFlags;

}  // namespace attnscope::app
