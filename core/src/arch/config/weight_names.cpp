#include "arch/config/weight_names.h"

#include <charconv>

namespace attnscope::core {

namespace {

bool endsAtBoundary(std::string_view name, std::string_view suffix) {
    if (name.size() < suffix.size() || name.substr(name.size() - suffix.size()) != suffix) return false;
    return name.size() == suffix.size() || name[name.size() - suffix.size() - 1] == '.';
}

}  // namespace

bool describeByRoles(const std::string& full, std::string_view blocks, std::span<const WeightRole> layerRoles,
                     std::span<const WeightRole> globalRoles, int& layer, std::string& component) {
    const std::string_view name(full);
    for (size_t p = name.find(blocks); p != std::string_view::npos; p = name.find(blocks, p + 1)) {
        if (p != 0 && name[p - 1] != '.') continue;
        const char* first = name.data() + p + blocks.size();
        const char* last = name.data() + name.size();
        int l = -1;
        const auto [end, ec] = std::from_chars(first, last, l);
        if (ec != std::errc() || end == first || end == last || *end != '.' || l < 0) continue;
        const std::string_view rest(end + 1, size_t(last - end - 1));
        for (const WeightRole& r : layerRoles)
            if (rest == r.suffix) {
                layer = l;
                component = r.component;
                return true;
            }
        return false;  // a block tensor that is no weight matrix (norms, biases)
    }
    for (const WeightRole& r : globalRoles)
        if (endsAtBoundary(name, r.suffix)) {
            layer = -1;
            component = r.component;
            return true;
        }
    return false;
}

}  // namespace attnscope::core
