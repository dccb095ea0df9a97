// variants: the attention-variants lab (issue 19; shared/reference/attention-variants-and-heads.md
// sections A-D) through the Inspector: one layer's traced q, k, v replayed through the chosen
// variants, compared with the softmax the model ran; --substitute re-runs the model with each.
#include <algorithm>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

void printList() {
    for (const VariantInfo& v : variantInfos()) {
        std::printf("%-14s %-13s %s\n", v.name.c_str(), variantFamilyName(v.family), v.title.c_str());
        for (const VariantParamSpec& p : v.params) {
            std::string range;
            if (p.choices.empty()) {
                char buf[96];
                std::snprintf(buf, sizeof buf, "%g (%g..%g)", p.defaultValue, p.minValue, p.maxValue);
                range = buf;
            } else {
                for (const std::string& c : p.choices) range += (range.empty() ? "" : "|") + c;
                range += " (" + p.choices[size_t(p.defaultValue)] + ")";
            }
            std::printf("    %-16s %-24s %s\n", p.name.c_str(), range.c_str(), p.help.c_str());
        }
        std::printf("    source: %s\n", v.source.c_str());
    }
}

// One head's variant map as CSV, the layout of `attention --out` (T rows of T weights); written
// to a temporary file first, then renamed over FILE.
void writeMap(const VariantHeadPair& p, const std::string& path) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp);
        if (!f) fail(ErrorKind::BadInput, path + ": cannot write file");
        char buf[32];
        const int64_t rows = p.tile.rows, cols = p.tile.cols;  // the whole map: T x T
        for (int64_t i = 0; i < rows; ++i) {
            for (int64_t j = 0; j < cols; ++j) {
                std::snprintf(buf, sizeof buf, j ? ",%.9g" : "%.9g", p.variant.map[size_t(i * cols + j)]);
                f << buf;
            }
            f << '\n';
        }
        if (!f.flush()) fail(ErrorKind::BadInput, path + ": write failed");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) fail(ErrorKind::BadInput, path + ": " + ec.message());
}

// A continuation on one table line: line breaks shown as ⏎.
std::string oneLine(std::string text) {
    for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at)) text.replace(at, 1, "\u23ce");
    return text;
}

// 0 for values that print as ±0 at this precision (no "-0.000" in the table).
double shown(double x, double resolution) { return std::abs(x) < resolution / 2 ? 0.0 : x; }

}  // namespace

int verbVariants(const std::vector<std::string>& argv) {
    std::vector<std::string> rest, params;  // --param may repeat
    for (size_t i = 0; i < argv.size(); ++i) {
        if (argv[i] == "--param") {
            if (i + 1 >= argv.size()) fail(ErrorKind::BadInput, "--param needs [name.]key=value");
            params.push_back(argv[++i]);
        } else {
            rest.push_back(argv[i]);
        }
    }
    auto valued = kModelOptions;
    valued.insert({"--layer", "--head", "--variant", "--continuation", "--held-out", "--out"});
    auto flags = kModelFlags;
    flags.insert({"--substitute", "--all-layers", "--list"});
    const CliArgs a(rest, valued, flags);
    if (a.has("--list")) {
        printList();
        return 0;
    }
    Options o;  // the request by the names every front end uses (variantsRequestFrom)
    o.set("--layer", a.str("--layer", "0"));
    o.set("--variant-head", a.str("--head", "-1"));
    if (a.str("--variant", "all") != "all") o.set("--variants", a.str("--variant"));
    std::string joined;
    for (const std::string& p : params) joined += (joined.empty() ? "" : ",") + p;
    o.set("--variant-params", joined);
    o.set("--variant-substitute", a.has("--substitute") || a.has("--all-layers") ? "1" : "0");
    o.set("--variant-all-layers", a.has("--all-layers") ? "1" : "0");
    o.set("--variant-continuation",
          a.str("--continuation", a.has("--substitute") || a.has("--all-layers") ? "16" : "0"));
    if (a.has("--held-out")) o.set("--variant-held-out", a.str("--held-out"));
    const VariantsRequest request = variantsRequestFrom(o);  // bad names and values fail before the model opens
    if (a.has("--out") && (request.variants.size() != 1 || request.head < 0))
        fail(ErrorKind::BadInput, "--out writes one variant's map of one head: name --variant NAME and --head H");

    auto inspector = openInspector(a);
    inspector->setPromptIds(promptIds(a, *inspector));
    if (a.has("--out")) {
        const int T = int(std::min<size_t>(inspector->prompt().size(), 1 << 20));
        if (T > 4096)
            fail(ErrorKind::BadInput, "--out writes the whole T x T map: prompts up to 4096 tokens (this one has " +
                                          std::to_string(T) + ")");
        const VariantHeadPair p =
            inspector->variantHead(request.layer, request.head, request.variants.front(), {0, T, 0, T, T, T});
        writeMap(p, a.str("--out"));
        if (!a.has("--json"))
            std::fprintf(stderr, "wrote the %lld x %lld %s map of layer %d head %d to %s\n", (long long)p.T,
                         (long long)p.T, p.name.c_str(), p.layer, p.head, a.str("--out").c_str());
    }
    const VariantsResult r = inspector->variants(request);
    const SessionSection s = encodeVariants(r);
    if (a.has("--json")) {
        nlohmann::json j = s.params;
        for (size_t i = 0; i < r.variants.size(); ++i) {
            if (!r.variants[i].hasEndToEnd) continue;
            nlohmann::json& e = j["variants"][i]["end_to_end"];
            const VariantEndToEnd& t = r.variants[i].endToEnd;
            e["kl"] = t.kl;
            e["continuation_text"] = inspector->decode(t.continuation);
            e["continuation_original_text"] = inspector->decode(t.continuationOriginal);
        }
        std::cout << j.dump(-1) << "\n";
        return 0;
    }
    std::printf("layer %d, %s, %lld tokens: mean over heads against softmax\n", r.layer,
                r.head < 0 ? "all heads" : ("head " + std::to_string(r.head)).c_str(), (long long)r.tokens);
    std::printf("%-14s %9s %9s %8s %9s %8s %8s %7s %7s", "variant", "out err", "cosine", "row KL", "row TV", "H gap",
                "eff rank", "kept", "sink");
    const bool e2e = request.substitute;
    if (e2e) std::printf(" %9s %9s %6s", "e2e KL", "ppl delta", "top1");
    std::printf("\n");
    for (const VariantRun& v : r.variants) {
        const VariantHeadMetrics& m = v.mean;
        std::printf("%-14s %9.4f %9.4f %8.4f %9.4f %+8.3f %8.2f %7.3f %7.3f", v.name.c_str(), m.outputRelErr, m.cosine,
                    m.rowKlMean, m.rowTvMean, shown(m.entropyGap, 1e-3), m.effectiveRank, m.keptMass, m.sinkMass);
        if (v.hasEndToEnd)
            std::printf(" %9.4f %+9.3f %6.3f", v.endToEnd.klMean, shown(v.endToEnd.ppl - v.endToEnd.pplOriginal, 1e-3),
                        v.endToEnd.top1);
        std::printf("\n");
    }
    if (e2e && request.continuation > 0 && !r.variants.empty())
        std::printf("%-14s %s\n", "(original)",
                    oneLine(inspector->decode(r.variants.front().endToEnd.continuationOriginal)).c_str());
    if (e2e && request.continuation > 0)
        for (const VariantRun& v : r.variants)
            std::printf("%-14s %s\n", v.name.c_str(), oneLine(inspector->decode(v.endToEnd.continuation)).c_str());
    return 0;
}

}  // namespace attnscope::app
