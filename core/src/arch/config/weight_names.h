// Naming weight matrices for the weight analyses (Weibull fits, quantization): each
// family maps its file's tensor names onto (layer, component) with a small table.
#pragma once
#include <span>
#include <string>
#include <string_view>

namespace attnscope::core {

// Components, as in issue 7 and the NPM-Weibull database: q k v o gate up down qkv
// (fused) embed lm_head.
struct WeightRole {
    std::string_view suffix;  // after "<blocks><layer>." for layer roles; the whole tail otherwise
    const char* component;
};

// True when `name` is a weight matrix of the tables: "<...><blocks><l>.<suffix>" (layer l)
// or a name ending in a global role's suffix at a '.' boundary (layer -1). `blocks` is
// the block prefix ("model.layers.", "h."); it must start the name or follow a '.'.
bool describeByRoles(const std::string& name, std::string_view blocks,
                     std::span<const WeightRole> layerRoles, std::span<const WeightRole> globalRoles,
                     int& layer, std::string& component);

}  // namespace attnscope::core
