// The policy registry: one explicit table (self-registering statics would be dropped by
// the linker from the static library), lookups, and parameter access.
#include <algorithm>

#include "analyses/kv/kv_policy.h"
#include "attnscope/enum_names.h"
#include "attnscope/error.h"

namespace attnscope {

namespace kv {

const std::vector<const KvPolicyEntry*>& registry() {
#define ATTNSCOPE_KV_ENTRY(name) &name##Policy(),
    static const std::vector<const KvPolicyEntry*> table = {ATTNSCOPE_KV_POLICIES(ATTNSCOPE_KV_ENTRY)};
#undef ATTNSCOPE_KV_ENTRY
    return table;
}

const KvPolicyEntry& entry(const std::string& name) {
    for (const KvPolicyEntry* e : registry())
        if (e->info.name == name) return *e;
    std::string names;
    for (const KvPolicyEntry* e : registry()) names += (names.empty() ? "" : ", ") + e->info.name;
    fail(ErrorKind::BadInput, "unknown KV policy '" + name + "' (known: " + names + ")");
}

}  // namespace kv

const std::vector<KvPolicyInfo>& kvPolicies() {
    static const std::vector<KvPolicyInfo> infos = [] {
        std::vector<KvPolicyInfo> v;
        for (const kv::KvPolicyEntry* e : kv::registry()) v.push_back(e->info);
        return v;
    }();
    return infos;
}

const KvPolicyInfo& kvPolicy(const std::string& name) { return kv::entry(name).info; }

namespace {

constexpr EnumName<KvGranularity> kGranularityNames[] = {
    {KvGranularity::QueryHead, "query_head"}, {KvGranularity::KvHead, "kv_head"}, {KvGranularity::Layer, "layer"}};
constexpr EnumName<KvMode> kModeNames[] = {{KvMode::Prefill, "prefill"}, {KvMode::Decode, "decode"}};

}  // namespace

const char* kvGranularityName(KvGranularity g) { return enumName(kGranularityNames, g); }
const char* kvModeName(KvMode m) { return enumName(kModeNames, m); }

KvMode parseKvMode(const std::string& s) { return parseEnum(kModeNames, s, "KV mode"); }

namespace {

const KvParamSpec& spec(const KvParams& p, const std::string& name) {
    const KvPolicyInfo& info = kvPolicy(p.policy);
    for (const KvParamSpec& s : info.params)
        if (s.name == name) return s;
    fail(ErrorKind::BadInput, "policy " + p.policy + " has no parameter '" + name + "'");
}

}  // namespace

double KvParams::get(const std::string& name) const {
    const KvParamSpec& s = spec(*this, name);
    auto it = values.find(name);
    if (it == values.end()) return s.defaultValue;
    const double v = it->second;
    if (!(v >= s.minValue && v <= s.maxValue))
        fail(ErrorKind::BadInput, policy + ": " + name + " = " + std::to_string(v) + " is outside [" +
                                      std::to_string(s.minValue) + ", " + std::to_string(s.maxValue) + "]");
    if (!s.choices.empty() && (v != double(int64_t(v)) || v < 0 || v >= double(s.choices.size())))
        fail(ErrorKind::BadInput, policy + ": " + name + " must index one of its choices");
    return v;
}

std::string KvParams::choice(const std::string& name) const {
    const KvParamSpec& s = spec(*this, name);
    if (s.choices.empty()) fail(ErrorKind::Internal, name + " is not an enumeration");
    return s.choices[size_t(get(name))];
}

}  // namespace attnscope
