// The head-role detectors' registry and driver (attnscope/analyses/head_scores.h).
#include "attnscope/analyses/head_scores.h"

#include <algorithm>

#include "analyses/heads/head_context.h"
#include "analyses/heads/head_detector.h"
#include "attnscope/error.h"
#include "attnscope/trace.h"

namespace attnscope {
namespace {

const std::vector<const heads::DetectorEntry*>& entries() {
#define ATTNSCOPE_HEAD_DETECTOR_ENTRY(name) &heads::name##Detector(),
    static const std::vector<const heads::DetectorEntry*> list = {
        ATTNSCOPE_HEAD_DETECTORS(ATTNSCOPE_HEAD_DETECTOR_ENTRY)};
#undef ATTNSCOPE_HEAD_DETECTOR_ENTRY
    return list;
}

const heads::DetectorEntry& entry(const std::string& id) {
    for (const heads::DetectorEntry* e : entries())
        if (e->info.id == id) return *e;
    std::string known;
    for (const heads::DetectorEntry* e : entries()) known += (known.empty() ? "" : ", ") + e->info.id;
    fail(ErrorKind::BadInput, "unknown head detector '" + id + "' (known: " + known + ")");
}

}  // namespace

const std::vector<HeadDetectorInfo>& headDetectors() {
    static const std::vector<HeadDetectorInfo> infos = [] {
        std::vector<HeadDetectorInfo> v;
        for (const heads::DetectorEntry* e : entries()) v.push_back(e->info);
        return v;
    }();
    return infos;
}

const HeadDetectorInfo& headDetector(const std::string& id) { return entry(id).info; }

std::vector<HeadDetectorInfo> headDetectorSelection(const HeadDetectorParams& params) {
    for (const std::string& id : params.detectors) entry(id);  // unknown ids fail
    for (const auto& [id, t] : params.thresholds) {
        if (entry(id).info.role.empty()) fail(ErrorKind::BadInput, "head detector '" + id + "' has no role threshold");
        if (!(t >= 0)) fail(ErrorKind::BadInput, "role threshold of '" + id + "' must be >= 0");
    }
    std::vector<HeadDetectorInfo> out;
    for (const heads::DetectorEntry* e : entries()) {
        const std::vector<std::string>& want = params.detectors;
        if (!want.empty() && std::find(want.begin(), want.end(), e->info.id) == want.end()) continue;
        HeadDetectorInfo info = e->info;
        if (auto it = params.thresholds.find(info.id); it != params.thresholds.end()) info.threshold = it->second;
        out.push_back(std::move(info));
    }
    return out;
}

namespace heads {

bool detectorsNeedValues(const HeadDetectorParams& params) {
    for (const HeadDetectorInfo& info : headDetectorSelection(params))
        if (info.id == "retrieval") return true;
    return false;
}

HeadLayerScores scoreLayer(DetectorContext& ctx, int layer, const JobControl& job) {
    if (layer < 0 || layer >= ctx.trace.nLayers())
        fail(ErrorKind::BadInput, "layer " + std::to_string(layer) + " out of range (model has " +
                                      std::to_string(ctx.trace.nLayers()) + ")");
    HeadLayerScores out;
    out.layer = layer;
    out.infos = headDetectorSelection(ctx.params);
    LayerInputs in(ctx, layer, job);
    for (size_t d = 0; d < out.infos.size(); ++d) {
        job.check();
        DetectorResult r = entry(out.infos[d].id).compute(in);
        if (int(r.heads.size()) != in.nHeads)
            fail(ErrorKind::Internal, "head detector " + out.infos[d].id + ": wrong size");
        out.values.push_back(std::move(r.heads));
        if (!r.note.empty()) out.notes[out.infos[d].id] = r.note;
        job.report(double(d + 1) / double(out.infos.size()));
    }
    return out;
}

}  // namespace heads
}  // namespace attnscope
