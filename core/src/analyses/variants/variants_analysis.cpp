// The registry entry of the attention-variants lab, and the options every front end names its
// choices by.
#include <algorithm>

#include "analyses/analysis_list.h"
#include "attnscope/analyses/variants.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"

namespace attnscope {

void assignVariantParams(std::vector<VariantChoice>& choices, const std::vector<std::string>& assignments) {
    for (const std::string& a : assignments) {
        const size_t eq = a.find('='), dot = a.find('.');
        const bool named = dot != std::string::npos && dot < eq;
        const std::string variant = named ? a.substr(0, dot) : "", assignment = named ? a.substr(dot + 1) : a;
        const std::string key = assignment.substr(0, assignment.find('='));
        bool used = false;
        for (VariantChoice& c : choices) {
            if (named && c.name != variant) continue;
            const VariantInfo& info = variantInfo(c.name);
            const bool has = std::any_of(info.params.begin(), info.params.end(),
                                         [&](const VariantParamSpec& p) { return p.name == key; });
            if (!has && !named) continue;  // a bare key goes to the variants that have it
            for (const auto& [k, v] : variantParams(info, {assignment})) c.params[k] = v;  // checks names and ranges
            used = true;
        }
        if (!used)
            fail(ErrorKind::BadInput, "variant parameter '" + a + "': " +
                                          (named ? "'" + variant + "' is not among the chosen variants"
                                                 : "no chosen variant has a parameter '" + key + "'"));
    }
}

VariantsRequest variantsRequestFrom(const Options& o) {
    VariantsRequest r;
    r.layer = o.integer("--layer", 0);
    r.head = o.integer("--variant-head", -1);
    for (const std::string& name : splitList(o.str("--variants"))) r.variants.push_back({name, {}});
    if (r.variants.empty())
        for (const VariantInfo& info : variantInfos()) r.variants.push_back({info.name, {}});
    for (const VariantChoice& c : r.variants) variantInfo(c.name);  // unknown names: the known ones listed
    assignVariantParams(r.variants, splitList(o.str("--variant-params")));
    // End to end by default: with the layer's outputs computed it costs one forward per variant.
    r.substitute = o.integer("--variant-substitute", 1) != 0;
    r.allLayers = o.integer("--variant-all-layers", 0) != 0;
    r.continuation = o.integer("--variant-continuation", 0);
    r.heldOutFrom = o.number("--variant-held-out", r.heldOutFrom);
    if (r.allLayers) r.substitute = true;
    const std::string map = o.str("--variant-map");
    if (map != "none") {
        for (const VariantChoice& c : r.variants)
            if (map.empty() ? c.name != "softmax" : c.name == map) {
                r.mapVariant = c.name;
                r.mapParams = c.params;
                break;
            }
        if (r.mapVariant.empty() && !map.empty()) {
            variantInfo(map);  // an unknown name: the known ones listed
            r.mapVariant = map;
        }
        r.mapHead = std::max(0, o.integer("--head", 0));
    }
    return r;
}

AnalysisSpec variantsAnalysis() {
    return {"variants",
            "Attention Variants",
            "one layer's heads through linear, sparse, normalisation and binary attention variants: output error, "
            "row KL, entropy gap and rank against softmax; end to end with the variant in place",
            {{"--layer", "L: the layer whose q, k, v are replayed (0)"},
             {"--variant-head", "H: one query head, -1 for all (-1)"},
             {"--variants", "a,b,...: registry names (all)"},
             {"--variant-params", "[name.]key=value,...: parameters (a bare key: every chosen variant that has it)"},
             {"--variant-substitute", "0|1: re-run the model with each variant in the layer (1)"},
             {"--variant-all-layers", "0|1: ... in every layer instead (0)"},
             {"--variant-continuation", "N: greedy tokens beside the original's (0)"},
             {"--variant-held-out", "S: perplexity over positions from this share of the prompt (0.5)"},
             {"--variant-map", "NAME|none: the variant whose map of the view's head is kept (the first but softmax)"}},
            false,  // attnscope-cli variants is a verb of its own (app/cli/verbs_variants.cpp)
            [](Inspector& inspector, const Options& o, const Session&, const JobControl& job) {
                return encodeVariants(inspector.variants(variantsRequestFrom(o), job));
            },
            validateBy(decodeVariants)};
}

}  // namespace attnscope
