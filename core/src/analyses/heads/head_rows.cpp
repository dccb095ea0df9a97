// Shared pieces of the head-role detectors (head_detector.h).
#include <algorithm>
#include <cmath>
#include <limits>

#include "analyses/heads/head_context.h"
#include "analyses/heads/head_detector.h"
#include "attnscope/trace.h"

namespace attnscope::heads {

LayerInputs::LayerInputs(DetectorContext& c, int l, const JobControl& j)
    : ctx(c), trace(c.trace), params(c.params), layer(l), nHeads(c.trace.nHeads()), job(j) {}

const std::vector<HeadStats>& LayerInputs::stats() {
    if (!m_haveStats) {
        StatsOptions options;  // min query position 0: first_token is the causal mean of A[i, 0]
        options.diagonal = true;
        options.job.stop = job.stop;
        m_stats = trace.layerStats(layer, options);
        m_haveStats = true;
    }
    return m_stats;
}

float meanFrom(const std::vector<float>& v, size_t from) {
    double sum = 0;
    for (size_t i = from; i < v.size(); ++i) sum += v[i];
    return v.size() > from ? float(sum / double(v.size() - from)) : 0.f;
}

DetectorResult notApplicable(const LayerInputs& in, std::string note) {
    return {std::vector<float>(size_t(in.nHeads), std::numeric_limits<float>::quiet_NaN()), std::move(note)};
}

DetectorResult fromStats(LayerInputs& in, const std::function<float(const HeadStats&)>& perHead) {
    DetectorResult r;
    for (const HeadStats& s : in.stats()) r.heads.push_back(perHead(s));
    return r;
}

void forAttentionTiles(const Trace& trace, int layer, int head, const std::vector<int64_t>& rows,
                       const std::function<void(int64_t r0, int64_t r1, const float* a)>& visit,
                       const JobControl& job) {
    size_t at = 0;
    while (at < rows.size()) {
        job.check();
        // A run of consecutive rows [r0, r1) whose tile [r0, r1) x [0, r1) stays under the limit.
        const int64_t r0 = rows[at];
        size_t end = at + 1;
        while (end < rows.size() && rows[end] == rows[end - 1] + 1 &&
               (rows[end] + 1 - r0) * (rows[end] + 1) <= kRowTileElements)
            ++end;
        const int64_t r1 = rows[end - 1] + 1;
        const Matrix2D tile = trace.attentionTile(layer, head, r0, r1, 0, r1);
        visit(r0, r1, tile.data.data());
        at = end;
    }
}

void forAttentionRows(const Trace& trace, int layer, int head, const std::vector<int64_t>& rows,
                      const std::function<void(int64_t i, const float* a)>& visit, const JobControl& job) {
    forAttentionTiles(
        trace, layer, head, rows,
        [&](int64_t r0, int64_t r1, const float* a) {
            for (int64_t i = r0; i < r1; ++i) visit(i, a + size_t((i - r0) * r1));
        },
        job);
}

DetectorResult patternScore(LayerInputs& in, const std::vector<std::vector<int64_t>>& targets,
                            const std::string& what) {
    const bool bos = in.params.excludeBos, self = in.params.excludeCurrent;
    std::vector<int64_t> rows;
    for (size_t i = 0; i < targets.size(); ++i)
        if (!in.params.matchedRows || !targets[i].empty()) rows.push_back(int64_t(i));
    DetectorResult r;
    int64_t matched = 0;
    for (const auto& t : targets) matched += t.empty() ? 0 : 1;
    if (matched == 0) return notApplicable(in, what + ": no prompt position has a pattern entry");
    for (int h = 0; h < in.nHeads; ++h) {
        double num = 0, den = 0;
        forAttentionRows(
            in.trace, in.layer, h, rows,
            [&](int64_t i, const float* a) {
                auto kept = [&](int64_t j) { return !(bos && j == 0) && !(self && j == i); };
                for (int64_t j = 0; j <= i; ++j)
                    if (kept(j)) den += a[j];
                for (int64_t j : targets[size_t(i)])
                    if (kept(j)) num += a[j];
            },
            in.job);
        r.heads.push_back(den > 0 ? float(num / den) : std::numeric_limits<float>::quiet_NaN());
    }
    r.note = what + ": " + std::to_string(matched) + " of " + std::to_string(targets.size()) +
             " positions have a pattern entry; " + (in.params.matchedRows ? "those rows" : "every row") + " scored";
    return r;
}

}  // namespace attnscope::heads
