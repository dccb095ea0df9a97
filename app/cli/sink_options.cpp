#include "sink_options.h"

#include <sstream>

#include "attnscope/error.h"

namespace attnscope::app {
namespace {

SinkRule parseRule(const std::string& s) {
    if (s == "auto") return SinkRule::Auto;
    if (s == "official") return SinkRule::Official;
    if (s == "relative") return SinkRule::Relative;
    fail(ErrorKind::BadInput, "--rule expects auto, official or relative, got '" + s + "'");
}

SinkSource parseSource(const std::string& s) {
    if (s == "auto") return SinkSource::Auto;
    if (s == "hidden") return SinkSource::Hidden;
    if (s == "attention") return SinkSource::Attention;
    fail(ErrorKind::BadInput, "--source expects auto, hidden or attention, got '" + s + "'");
}

std::vector<int64_t> parsePositions(const std::string& s) {
    std::vector<int64_t> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) {
        try {
            size_t used = 0;
            out.push_back(std::stoll(item, &used));
            if (used != item.size()) throw std::invalid_argument(item);
        } catch (const std::exception&) {
            fail(ErrorKind::BadInput, "--bos expects comma-separated positions, got '" + item + "'");
        }
    }
    return out;
}

}  // namespace

const std::set<std::string> kSinkOptions = {"--epsilon", "--cos-threshold", "--min-query-pos", "--rule", "--source", "--bos"};

SinkParams sinkParamsFromArgs(const CliArgs& a) {
    SinkParams p;
    p.epsilon = a.number("--epsilon", p.epsilon);
    p.cosThreshold = a.number("--cos-threshold", p.cosThreshold);
    p.minQueryPos = a.integer64("--min-query-pos", 0);
    p.rule = parseRule(a.str("--rule", "auto"));
    p.source = parseSource(a.str("--source", "auto"));
    if (a.has("--bos")) p.bosCandidates = parsePositions(a.str("--bos"));
    return p;
}

}  // namespace attnscope::app
