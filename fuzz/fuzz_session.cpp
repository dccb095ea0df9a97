// Session files (.attnscope): loadSessionFromBuffer on arbitrary bytes, then every panel
// codec on every section it holds (the GUI decodes a section by its panel id; trying all
// codecs on all sections reaches more of each decoder).
#include "attnscope/analyses/interventions.h"
#include "attnscope/session.h"
#include "attnscope/session_codecs.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace attnscope;
    Session s;
    bool loaded = false;
    fuzz::expectOnlyErrors([&] {
        s = loadSessionFromBuffer(std::vector<uint8_t>(data, data + size), "fuzz.attnscope");
        loaded = true;
    });
    if (!loaded) return 0;
    for (const auto& entry : s.panels) {
        const SessionSection& section = entry.second;
        fuzz::expectOnlyErrors([&] { (void)decodeAttention(section); });
        fuzz::expectOnlyErrors([&] { (void)decodeHeadScores(section); });
        fuzz::expectOnlyErrors([&] { (void)decodeSinks(section, s.tokenIds); });
        fuzz::expectOnlyErrors([&] { (void)decodeWeibull(section); });
        fuzz::expectOnlyErrors([&] { (void)decodeKv(section); });
        fuzz::expectOnlyErrors([&] { (void)decodeQuant(section); });
        fuzz::expectOnlyErrors([&] { (void)decodeIntervention(section); });
        fuzz::expectOnlyErrors([&] { (void)decodePatch(section); });
        fuzz::expectOnlyErrors([&] { (void)decodeLogitLens(section); });
    }
    fuzz::expectOnlyErrors([&] { (void)sessionManifest(s); });
    return 0;
}
