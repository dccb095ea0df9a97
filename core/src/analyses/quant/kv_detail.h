// Torch internals of the KV-cache and attention-score analyses.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <vector>

#include "attnscope/analyses/quant.h"

namespace attnscope::kv_detail {

// One layer's attention inputs, float32: q [T, H, d], k and v [T, Hkv, d] (post-RoPE).
struct LayerQkv {
    at::Tensor q, k, v;
    double scale = 0;
    int64_t window = 0;
    int64_t T() const { return q.size(0); }
    int H() const { return int(q.size(1)); }
    int Hkv() const { return int(k.size(1)); }
    int d() const { return int(q.size(2)); }
};

struct KvOut {
    at::Tensor k, v;  // dequantized, [T, Hkv, d]
    double bitsK = 0, bitsV = 0;
    std::vector<uint8_t> highPrecision;  // [T]
};
KvOut quantizeKv(const LayerQkv& x, const KvQuantParams& p);

// Logits Ŝ of query head h for query rows [q0, q1) against keys [0, q1), scaled: [q1−q0, q1].
using ScoresFn = std::function<at::Tensor(int head, int64_t q0, int64_t q1)>;
// Attention output of head h for those rows from the masked logits Ŝ ([rows, q1], −inf
// where masked): [rows, d].
using OutputFn = std::function<at::Tensor(int head, int64_t q0, int64_t q1, const at::Tensor& maskedLogits)>;

// Fills r.heads[layer·H + h] and r.tokens[layer] (keyShare, queryOutErr) against the exact
// fp32 attention of x.
void layerErrors(const LayerQkv& x, const ScoresFn& scoresHat, const OutputFn& outputHat, int layer,
                 AttnQuantResult& r);

// |Ŝ − S| of query head `head` over all T rows: [T, T], NaN outside the visible window.
Matrix2D scoreErrorMap(const LayerQkv& x, const ScoresFn& scoresHat, int head);

LayerQkv fromQkvTensors(const QkvTensors& x);
// One layer of a trace from Model::run as float32 CPU tensors (needs values).
LayerQkv traceLayer(const Trace& trace, int layer);
// Every layer of the trace in order, torch errors translated: init(r, x, nLayers) before
// layer 0, then perLayer(x, l, r); stops with Error(Cancelled) "<what> cancelled" and reports
// progress per layer through `job`.
using LayerInit = std::function<void(AttnQuantResult&, const LayerQkv&, int nLayers)>;
using LayerStep = std::function<void(const LayerQkv&, int layer, AttnQuantResult&)>;
AttnQuantResult overTraceLayers(const Trace& trace, const JobControl& job, const std::string& what,
                                const LayerInit& init, const LayerStep& perLayer);
// ‖â_t − a_t‖ / ‖a_t‖ over heads, per token ([T, heads, d] tensors).
std::vector<float> tokenRelErr(const at::Tensor& a, const at::Tensor& ahat);

}  // namespace attnscope::kv_detail
