// The registry entry of the A^3 lab, and the options every front end names its choices by.
#include <algorithm>

#include "analyses/analysis_list.h"
#include "attnscope/analyses/a3.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"

namespace attnscope {

A3Request a3RequestFrom(const Options& o) {
    A3Request r;
    if (o.has("--a3-ranks")) r.fractions = numberList(o.str("--a3-ranks"), "--a3-ranks");
    for (double f : r.fractions)
        if (!(f > 0 && f <= 1)) fail(ErrorKind::BadInput, "--a3-ranks: fractions must lie in (0, 1]");
    r.params.rope = parseA3Rope(o.str("--a3-rope", a3RopeName(r.params.rope)));
    r.params.refit = o.integer("--a3-refit", 1) != 0;
    r.holdout = o.number("--a3-holdout", r.holdout);
    r.calibFile = o.str("--a3-calib-file");
    return r;
}

A3Profile a3ProfileFrom(const A3Result& r, const Options& o) {
    const int given = int(o.has("--a3-apply")) + int(o.has("--a3-apply-epsilon")) + int(o.has("--a3-apply-layers"));
    if (given != 1) fail(ErrorKind::BadInput, "name one profile: --a3-apply F, --a3-apply-epsilon E or --a3-apply-layers F,F,...");
    A3Profile p = o.has("--a3-apply")           ? a3UniformProfile(r, o.number("--a3-apply", 0))
                  : o.has("--a3-apply-epsilon") ? a3ThresholdProfile(r, o.number("--a3-apply-epsilon", 0))
                                                : a3LayerProfile(r, numberList(o.str("--a3-apply-layers"), "--a3-apply-layers"));
    if (!o.has("--a3-apply-components")) return p;
    const std::vector<std::string> keep = splitList(o.str("--a3-apply-components"));
    for (const std::string& k : keep) parseA3Component(k);  // unknown names: a clear error
    for (A3Component c : {A3Component::QK, A3Component::OV, A3Component::MLP}) {
        if (std::find(keep.begin(), keep.end(), a3ComponentName(c)) != keep.end()) continue;
        for (auto& ranks : p.ranks) ranks[size_t(c)] = c == A3Component::MLP ? r.dFF : r.headDim;
    }
    p.name += " (" + o.str("--a3-apply-components") + ")";
    return p;
}

AnalysisSpec a3Analysis() {
    return {"a3", "A^3 Low-Rank",
            "A^3: each layer's QK, OV and MLP error against rank (A^3 vs plain SVD / magnitude), KV bytes saved",
            {{"--a3-ranks", "F,F,...: rank fractions in (0, 1] (0.0625 ... 1, ten steps)"},
             {"--a3-rope", "pre_rope|freq_pairs|no_rotary_cut: QK's RoPE handling (freq_pairs)"},
             {"--a3-refit", "0|1: MLP least-squares refit of W_down (1)"},
             {"--a3-holdout", "S: held-out share of the prompt (0.5)"},
             {"--a3-calib-file", "FILE: calibrate on this text, hold out the whole prompt"}},
            false,
            [](Inspector& inspector, const Options& o, const Session&, const JobControl& job) {
                return encodeA3(inspector.a3(a3RequestFrom(o), job));
            },
            validateBy(decodeA3)};
}

}  // namespace attnscope
