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

// The TransformerLens "mul" score Σ(A' ⊙ D) / Σ A' of every head (reference §E.1) for the
// duplicate pattern D[i, j] = [tok_j = tok_i, j < i] and the induction pattern D[i, j] =
// [tok_{j-1} = tok_i, j <= i], over the rows with an entry (params.matchedRows) or every row;
// A' zeroes column 0 (excludeBos) and the diagonal (excludeCurrent). One pass over the rows.
const LayerInputs::Patterns& LayerInputs::patterns() {
    if (m_patterns) return *m_patterns;
    const std::vector<std::vector<int64_t>>& copies = ctx.earlierCopies();  // duplicate targets j
    const size_t T = copies.size();
    const bool bos = params.excludeBos, self = params.excludeCurrent, matched = params.matchedRows;
    std::vector<int64_t> rows;
    int64_t dupRows = 0, indRows = 0;
    for (size_t i = 0; i < T; ++i) {
        // Row i has an induction entry j = p + 1 for each earlier copy p (p + 1 <= i): the same rows.
        const bool any = !copies[i].empty();
        dupRows += any, indRows += any;
        if (!matched || any) rows.push_back(int64_t(i));
    }
    Patterns out;
    for (int h = 0; h < nHeads; ++h) {
        double dNum = 0, iNum = 0, den = 0;
        forAttentionRows(
            trace, layer, h, rows,
            [&](int64_t i, const float* a) {
                auto kept = [&](int64_t j) { return !(bos && j == 0) && !(self && j == i); };
                // A row sums to 1: only the excluded entries are subtracted (no O(T) sum per row).
                den += 1.0 - (bos ? double(a[0]) : 0.0) - (self && !(bos && i == 0) ? double(a[i]) : 0.0);
                for (int64_t p : copies[size_t(i)]) {
                    if (kept(p)) dNum += a[p];
                    if (kept(p + 1)) iNum += a[p + 1];
                }
            },
            job);
        const float nan = std::numeric_limits<float>::quiet_NaN();
        out.duplicate.push_back(dupRows == 0 || !(den > 0) ? nan : float(dNum / den));
        out.induction.push_back(indRows == 0 || !(den > 0) ? nan : float(iNum / den));
    }
    auto note = [&](const char* what, int64_t n) {
        return n == 0 ? std::string(what) + ": no prompt position has a pattern entry"
                      : std::string(what) + ": " + std::to_string(n) + " of " + std::to_string(T) +
                            " positions have a pattern entry; " + (matched ? "those rows" : "every row") + " scored";
    };
    out.duplicateNote = note("duplicate_token", dupRows);
    out.inductionNote = note("induction", indRows);
    m_patterns = std::move(out);
    return *m_patterns;
}

}  // namespace attnscope::heads
