// The Trace implementation over the decoder's captures.
#pragma once
#include <ATen/ATen.h>

#include "attnscope/trace.h"
#include "runtime/decoder.h"
#include "trace/attention_stats_impl.h"
#include "trace/layer_stats.h"

namespace attnscope::core {

class TraceImpl final : public Trace {
public:
    TraceImpl(const ModelConfig& config, std::vector<int32_t> ids, ForwardResult result);

    int64_t length() const override { return int64_t(m_ids.size()); }
    int nLayers() const override { return int(m_layers.size()); }
    int nHeads() const override { return m_config.nHeads; }
    int nKvHeads() const override { return m_config.nKvHeads; }
    int headDim() const override { return m_config.headDim; }
    const std::vector<int32_t>& ids() const override { return m_ids; }

    Matrix2D logits() const override;
    Matrix2D captured(Capture what, int layer) const override;
    Matrix2D attentionTile(int layer, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1) const override;
    std::vector<HeadStats> layerStats(int layer, const StatsOptions& options) const override;
    Matrix2D overview(int layer, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1, int rows,
                      int cols, Pool pool) const override;
    int64_t memoryBytes() const override;

    // For analyses inside core: the raw tensors.
    const LayerCapture& layer(int l) const;
    QkView qk(int layer) const;
    const at::Tensor& logitsTensor() const { return m_logits; }
    // Statistics computed while the forward ran (TracePolicy::statsDuringForward), one per layer.
    void setLayerStats(std::vector<LayerStatTensors> stats) { m_stats = std::move(stats); }

private:
    void checkRange(int layer, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1) const;

    ModelConfig m_config;
    std::vector<int32_t> m_ids;
    at::Tensor m_logits;  // [T or 1, V]
    std::vector<LayerCapture> m_layers;
    std::vector<LayerStatTensors> m_stats;  // empty unless statsDuringForward
};

}  // namespace attnscope::core
