#include "runtime/attention_cpu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>

#include "attnscope/error.h"

namespace attnscope::core {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Keys [lo, hi) (indices into k) that query row i sees under the causal/window mask.
std::pair<int64_t, int64_t> visibleKeys(const AttnGeometry& g, int64_t i, int64_t Tk) {
    const int64_t qp = g.qPos0 + i;
    const int64_t hi = std::clamp<int64_t>(qp - g.kPos0 + 1, 0, Tk);
    const int64_t lo = g.window > 0 ? std::clamp<int64_t>(qp - g.window + 1 - g.kPos0, 0, hi) : 0;
    return {lo, hi};
}

// Sets the entries of each row of `tile` outside its visible keys to `value`.
void fillInvisible(const AttnGeometry& g, const RowTile& t, at::Tensor& tile, float value) {
    const int64_t K = t.ke - t.kb;
    float* base = tile.data_ptr<float>();
    for (int64_t r = t.r0; r < t.r1; ++r) {
        const auto [lo, hi] = visibleKeys(g, r, t.ke);
        float* row = base + (r - t.r0) * K;
        std::fill(row, row + std::max<int64_t>(0, lo - t.kb), value);
        std::fill(row + std::max<int64_t>(0, hi - t.kb), row + K, value);
    }
}

}  // namespace

HeadMajorQk headMajor(const at::Tensor& q, const at::Tensor& k, const AttnGeometry& g) {
    HeadMajorQk x;
    x.q = q.to(at::kFloat).permute({1, 0, 2}).contiguous();  // [H, Tq, d]
    x.k = k.to(at::kFloat).permute({1, 0, 2}).contiguous();  // [Hkv, Tk, d]
    x.g = g;
    x.group = q.size(1) / k.size(1);
    if (g.keyMask.defined()) x.hidden = g.keyMask.to(at::kCPU).logical_not().contiguous();
    return x;
}

std::vector<RowTile> rowTiles(const AttnGeometry& g, int64_t Tq, int64_t Tk, int64_t budgetElems) {
    std::vector<RowTile> tiles;
    for (int64_t r0 = 0; r0 < Tq;) {
        const int64_t kb = visibleKeys(g, r0, Tk).first;
        const int64_t w0 = std::max<int64_t>(1, visibleKeys(g, r0, Tk).second - kb);
        // Rows b with b * (w0 + b) <= budget: each extra causal row adds one key.
        int64_t b = std::max<int64_t>(1, budgetElems / w0);
        for (int i = 0; i < 3 && b > 1 && b * (w0 + b) > budgetElems; ++i) b = std::max<int64_t>(1, budgetElems / (w0 + b));
        const int64_t r1 = std::min(Tq, r0 + b);
        tiles.push_back({r0, r1, kb, std::max(kb, visibleKeys(g, r1 - 1, Tk).second)});
        r0 = r1;
    }
    return tiles;
}

void logitsTile(const HeadMajorQk& x, int64_t h, const RowTile& t, at::Tensor& s) {
    if (!s.defined()) s = at::empty({0}, x.q.options());
    s.resize_({t.r1 - t.r0, t.ke - t.kb});  // reuse the buffer; _out ops warn when they resize
    // s = scale * q k^T in one GEMM (beta = 0 ignores the buffer's old contents).
    at::addmm_out(s, s, x.q[h].slice(0, t.r0, t.r1), x.k[h / x.group].slice(0, t.kb, t.ke).t(), 0, x.g.scale);
    fillInvisible(x.g, t, s, kNegInf);
    if (x.hidden.defined()) {
        const int64_t H = x.q.size(0), row = h / (H / x.hidden.size(0));
        s.masked_fill_(x.hidden[row].slice(0, x.g.kPos0 + t.kb, x.g.kPos0 + t.ke).unsqueeze(0), kNegInf);
    }
}

void zeroInvisible(const AttnGeometry& g, const RowTile& t, at::Tensor& tile) { fillInvisible(g, t, tile, 0.0f); }

at::Tensor attentionForwardCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const AttnGeometry& g, const std::stop_token& stop) {
    const int64_t Tq = q.size(0), H = q.size(1), d = q.size(2), Tk = k.size(0);
    const HeadMajorQk x = headMajor(q, k, g);
    const at::Tensor vh = v.to(at::kFloat).permute({1, 0, 2}).contiguous();  // [Hkv, Tk, d]
    const std::vector<RowTile> tiles = rowTiles(g, Tq, Tk, kCpuTileElems);
    const int64_t nTiles = int64_t(tiles.size());
    at::Tensor out = at::zeros({H, Tq, d}, vh.options());
    // One work item per (head, tile); items write disjoint rows of `out`.
    at::parallel_for(0, H * nTiles, 1, [&](int64_t i0, int64_t i1) {
        at::Tensor s;
        for (int64_t i = i0; i < i1 && !stop.stop_requested(); ++i) {
            const int64_t h = i / nTiles;
            const RowTile& t = tiles[size_t(i % nTiles)];
            if (t.ke <= t.kb) continue;  // nothing visible: zeros, as an empty softmax
            logitsTile(x, h, t, s);
            at::Tensor rows = out[h].slice(0, t.r0, t.r1);
            at::mm_out(rows, at::softmax(s, 1), vh[h / x.group].slice(0, t.kb, t.ke));
        }
    });
    if (stop.stop_requested()) fail(ErrorKind::Cancelled, "run cancelled");
    return out.permute({1, 0, 2}).to(q.scalar_type()).contiguous();
}

}  // namespace attnscope::core
