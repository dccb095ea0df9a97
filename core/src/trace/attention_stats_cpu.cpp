// CPU statistics: one pass per (head, row tile). A tile holds whole rows (every key they
// see), so its log-sum-exp is exact at once and the column quantities come from the same
// logits: one vectorized exp per visible entry (ATen's kernel), and one fused loop that
// normalizes each row and accumulates every column and row quantity while the tile is in
// cache. Heads run in parallel (at::parallel_for), each writing only its own rows.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "attnscope/error.h"
#include "runtime/attention_cpu.h"
#include "trace/attention_stats_impl.h"

namespace attnscope::core {
namespace {

// Row r's visible keys within the tile [lo, hi) (tile columns), from the -inf fill.
std::pair<int64_t, int64_t> visibleCols(const float* row, int64_t K) {
    int64_t lo = 0, hi = K;
    while (lo < hi && std::isinf(row[lo])) ++lo;
    while (hi > lo && std::isinf(row[hi - 1])) --hi;
    return {lo, hi};
}

// Probabilities of tile t for head h into e (same layout as s); s keeps the logits
// shifted by each row's max. Rows with nothing visible get zeros.
void tileProbabilities(const HeadMajorQk& x, int64_t h, const RowTile& t, at::Tensor& s, at::Tensor& e) {
    logitsTile(x, h, t, s);
    const int64_t rows = t.r1 - t.r0, K = t.ke - t.kb;
    float* sp = s.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) {
        float* row = sp + r * K;
        const auto [lo, hi] = visibleCols(row, K);
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t j = lo; j < hi; ++j) m = std::max(m, row[j]);
        if (!std::isinf(m))
            for (int64_t j = lo; j < hi; ++j) row[j] -= m;
    }
    e.resize_as_(s);
    at::exp_out(e, s);
    float* ep = e.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) {
        float* er = ep + r * K;
        double sum = 0;
        for (int64_t j = 0; j < K; ++j) sum += er[j];
        const float inv = sum > 0 ? float(1.0 / sum) : 0.f;
        for (int64_t j = 0; j < K; ++j) er[j] *= inv;
    }
}

}  // namespace

at::Tensor pooledOverviewCpu(const QkView& v, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1, int64_t R,
                             int64_t C, Pool pool) {
    const int64_t Q = q1 - q0, Kspan = k1 - k0, H = v.q.size(1);
    AttnGeometry g;
    g.scale = v.scale;
    g.window = v.window;
    g.qPos0 = q0;  // rows q0.. of q against all keys
    const HeadMajorQk x = headMajor(v.q.slice(0, q0, q1), v.k, g);
    std::vector<RowTile> tiles = rowTiles(g, Q, v.k.size(0), kCpuTileElems);
    std::vector<int64_t> colCell(static_cast<size_t>(Kspan)), rowCell(static_cast<size_t>(Q));
    for (int64_t j = 0; j < Kspan; ++j) colCell[size_t(j)] = j * C / Kspan;
    for (int64_t i = 0; i < Q; ++i) rowCell[size_t(i)] = i * R / Q;
    const bool isMax = pool == Pool::Max;
    std::vector<double> out(static_cast<size_t>(R * C), 0.0);
    std::mutex merge;
    // Tiles in parallel, each chunk pooling into its own map, merged at the end.
    at::parallel_for(0, int64_t(tiles.size()), 1, [&](int64_t b, int64_t end) {
        std::vector<double> local(static_cast<size_t>(R * C), 0.0);
        at::Tensor s, e = at::empty({0}, x.q.options()), mean;
        for (int64_t ti = b; ti < end; ++ti) {
            const RowTile& t = tiles[size_t(ti)];
            if (t.ke <= t.kb) continue;
            const int64_t rows = t.r1 - t.r0, K = t.ke - t.kb;
            if (head >= 0) {
                tileProbabilities(x, head, t, s, e);
            } else {  // mean of the heads' probabilities
                mean = at::zeros({rows, K}, x.q.options());
                for (int64_t h = 0; h < H; ++h) {
                    tileProbabilities(x, h, t, s, e);
                    mean.add_(e);
                }
                e = mean.div_(double(H));
            }
            const float* ep = e.data_ptr<float>();
            const int64_t jb = std::max(t.kb, k0), je = std::min(t.ke, k1);
            for (int64_t r = 0; r < rows; ++r) {
                double* cells = local.data() + rowCell[size_t(t.r0 + r)] * C;
                const float* er = ep + r * K - t.kb;
                for (int64_t j = jb; j < je; ++j) {
                    double& c = cells[colCell[size_t(j - k0)]];
                    c = isMax ? std::max(c, double(er[j])) : c + er[j];
                }
            }
        }
        const std::lock_guard lock(merge);
        for (size_t i = 0; i < out.size(); ++i) out[i] = isMax ? std::max(out[i], local[i]) : out[i] + local[i];
    });
    at::Tensor map = at::empty({R, C}, at::kFloat);
    float* mp = map.data_ptr<float>();
    std::vector<double> rowN(static_cast<size_t>(R)), colN(static_cast<size_t>(C));
    for (int64_t i = 0; i < Q; ++i) rowN[size_t(rowCell[size_t(i)])] += 1;
    for (int64_t j = 0; j < Kspan; ++j) colN[size_t(colCell[size_t(j)])] += 1;
    for (int64_t r = 0; r < R; ++r)
        for (int64_t c = 0; c < C; ++c)
            mp[r * C + c] = float(isMax ? out[size_t(r * C + c)] : out[size_t(r * C + c)] / (rowN[size_t(r)] * colN[size_t(c)]));
    return map;
}

void accumulateStatsCpu(const QkView& v, const StatsOptions& o, StatSums& acc) {
    const int64_t T = v.q.size(0), H = v.q.size(1);
    AttnGeometry g;
    g.scale = v.scale;
    g.window = v.window;
    const HeadMajorQk x = headMajor(v.q, v.k, g);
    const std::vector<RowTile> tiles = rowTiles(g, T, T, std::max<int64_t>(o.blockQ * o.blockK, 1024));
    const int64_t winStart = o.windowLast > 0 ? T - o.windowLast : T;
    at::parallel_for(0, H, 1, [&](int64_t h0, int64_t h1) {
        at::Tensor s, e = at::empty({0}, x.q.options());
        // Column sums run over up to T rows: double accumulators keep them exact to float.
        std::vector<double> colSum(static_cast<size_t>(T)), colSumR(static_cast<size_t>(T)), winSum(static_cast<size_t>(T));
        for (int64_t h = h0; h < h1; ++h) {
            std::fill(colSum.begin(), colSum.end(), 0.0);
            std::fill(colSumR.begin(), colSumR.end(), 0.0);
            std::fill(winSum.begin(), winSum.end(), 0.0);
            float* const entropy = acc.entropy[h].data_ptr<float>();
            float* const diagonal = acc.diagonal.defined() ? acc.diagonal[h].data_ptr<float>() : nullptr;
            float* const previous = acc.previous.defined() ? acc.previous[h].data_ptr<float>() : nullptr;
            for (const RowTile& t : tiles) {
                if (o.job.stopRequested()) fail(ErrorKind::Cancelled, "attention statistics cancelled");
                logitsTile(x, h, t, s);  // [rows, K], -inf where invisible
                const int64_t rows = t.r1 - t.r0, K = t.ke - t.kb;
                float* sp = s.data_ptr<float>();
                for (int64_t r = 0; r < rows; ++r) {  // shift each row by its max: exp stays finite
                    float* row = sp + r * K;
                    const auto [lo, hi] = visibleCols(row, K);
                    float m = -std::numeric_limits<float>::infinity();
                    for (int64_t j = lo; j < hi; ++j) m = std::max(m, row[j]);
                    if (std::isinf(m)) continue;  // nothing visible (eviction masks only)
                    for (int64_t j = lo; j < hi; ++j) row[j] -= m;
                }
                e.resize_as_(s);
                at::exp_out(e, s);  // exp(-inf) = 0 for invisible entries
                const float* ep = e.data_ptr<float>();
                for (int64_t r = 0; r < rows; ++r) {
                    const float* __restrict er = ep + r * K;
                    const float* __restrict sr = sp + r * K;
                    const auto [lo, hi] = visibleCols(sr, K);
                    double sum = 0;
                    for (int64_t j = lo; j < hi; ++j) sum += er[j];
                    if (sum <= 0) continue;
                    const float inv = float(1.0 / sum), logSum = float(std::log(sum));
                    const int64_t i = t.r0 + r;
                    double* __restrict cs = colSum.data() + t.kb;
                    double plogp = 0;
                    for (int64_t j = lo; j < hi; ++j) {
                        const float p = er[j] * inv;
                        cs[j] += p;
                        plogp += p * (sr[j] - logSum);  // log p = (s - max) - log Σ
                    }
                    entropy[i] -= float(plogp);
                    if (diagonal) {  // key i and key i-1 in tile columns: whole rows, so both are here
                        const int64_t jd = i - t.kb;
                        if (jd >= lo && jd < hi) diagonal[i] = er[jd] * inv;
                        if (jd - 1 >= lo && jd - 1 < hi) previous[i] = er[jd - 1] * inv;
                    }
                    auto addRow = [&](std::vector<double>& sums) {
                        double* __restrict c = sums.data() + t.kb;
                        for (int64_t j = lo; j < hi; ++j) c[j] += er[j] * inv;
                    };
                    if (i >= o.minQueryPos) addRow(colSumR);
                    if (i >= winStart) addRow(winSum);
                }
            }
            for (auto [from, to] : {std::pair{&colSum, &acc.colSum}, {&colSumR, &acc.colSumR}, {&winSum, &acc.winSum}})
                std::copy(from->begin(), from->end(), (*to)[h].data_ptr<float>());
        }
    });
}

}  // namespace attnscope::core
