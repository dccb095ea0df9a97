#include "trace/trace_impl.h"

#include <algorithm>

#include "attnscope/error.h"

namespace attnscope {

const char* captureName(Capture c) {
    switch (c) {
    case Capture::ResidIn: return "resid_in";
    case Capture::ResidOut: return "resid_out";
    case Capture::AttnIn: return "attn_in";
    case Capture::QPre: return "q_pre";
    case Capture::KPre: return "k_pre";
    case Capture::Q: return "q";
    case Capture::K: return "k";
    case Capture::V: return "v";
    case Capture::HeadOut: return "head_out";
    case Capture::MlpIn: return "mlp_in";
    case Capture::MlpOut: return "mlp_out";
    }
    return "?";
}

}  // namespace attnscope

namespace attnscope::core {

TraceImpl::TraceImpl(const ModelConfig& config, std::vector<int32_t> ids, ForwardResult result)
    : m_config(config), m_ids(std::move(ids)), m_logits(std::move(result.logits)),
      m_layers(std::move(result.layers)) {}

const LayerCapture& TraceImpl::layer(int l) const {
    if (l < 0 || l >= nLayers())
        fail(ErrorKind::BadInput, "layer " + std::to_string(l) + " out of range (model has " +
                                      std::to_string(nLayers()) + " layers)");
    return m_layers[size_t(l)];
}

QkView TraceImpl::qk(int l) const {
    const LayerCapture& c = layer(l);
    if (!c.q.defined() || !c.k.defined())
        fail(ErrorKind::NotFound, "the trace does not keep q/k of layer " + std::to_string(l) +
                                      " (dropped by the trace policy); rerun keeping that layer");
    return {c.q, c.k, m_config.logitScale(), m_config.slidingWindow};
}

Matrix2D TraceImpl::logits() const { return toMatrix(m_logits); }

Matrix2D TraceImpl::captured(Capture what, int l) const {
    const LayerCapture& c = layer(l);
    const at::Tensor* t = nullptr;
    switch (what) {
    case Capture::ResidIn: t = &c.residIn; break;
    case Capture::ResidOut: t = &c.residOut; break;
    case Capture::AttnIn: t = &c.attnIn; break;
    case Capture::QPre: t = &c.qPre; break;
    case Capture::KPre: t = &c.kPre; break;
    case Capture::Q: t = &c.q; break;
    case Capture::K: t = &c.k; break;
    case Capture::V: t = &c.v; break;
    case Capture::HeadOut: t = &c.headOut; break;
    case Capture::MlpIn: t = &c.mlpIn; break;
    case Capture::MlpOut: t = &c.mlpOut; break;
    }
    if (!t || !t->defined())
        fail(ErrorKind::NotFound, std::string("the trace does not keep ") + captureName(what) +
                                      " (dropped by the trace policy)");
    return toMatrix(t->reshape({t->size(0), -1}));
}

void TraceImpl::checkRange(int l, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1) const {
    layer(l);
    const int64_t T = length();
    if (head < -1 || head >= nHeads())
        fail(ErrorKind::BadInput, "head " + std::to_string(head) + " out of range (model has " +
                                      std::to_string(nHeads()) + " query heads)");
    if (q0 < 0 || q1 > T || q0 >= q1 || k0 < 0 || k1 > T || k0 >= k1)
        fail(ErrorKind::BadInput, "attention range is empty or outside 0.." + std::to_string(T));
}

Matrix2D TraceImpl::attentionTile(int l, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1) const {
    checkRange(l, head, q0, q1, k0, k1);
    at::NoGradGuard g;
    at::Tensor p = probabilityTile(qk(l), head, q0, q1, k0, k1);
    return toMatrix(head >= 0 ? p[0] : p.mean(0));
}

std::vector<HeadStats> TraceImpl::layerStats(int l, const StatsOptions& options) const {
    at::NoGradGuard g;
    layer(l);
    if (size_t(l) < m_stats.size()) {
        const StatsOptions& kept = m_stats[size_t(l)].options;
        if (kept.minQueryPos == options.minQueryPos && kept.windowLast == options.windowLast &&
            (kept.entropy || !options.entropy)) {
            std::vector<HeadStats> stats = toHeadStats(m_stats[size_t(l)]);
            if (options.diagonal) addDiagonalStats(qk(l), options, stats);  // needs q/k kept
            return stats;
        }
    }
    return tiledHeadStats(qk(l), options);
}

Matrix2D TraceImpl::overview(int l, int head, int64_t q0, int64_t q1, int64_t k0, int64_t k1, int rows,
                             int cols, Pool pool) const {
    checkRange(l, head, q0, q1, k0, k1);
    at::NoGradGuard g;
    if (size_t(l) < m_stats.size() && m_stats[size_t(l)].ovSum.defined() && q0 == 0 && k0 == 0 &&
        q1 == length() && k1 == length() && (head >= 0 || pool == Pool::Mean)) {
        const LayerStatTensors& s = m_stats[size_t(l)];
        if (s.ovSum.size(1) == std::min<int64_t>(rows, length()) && s.ovSum.size(2) == std::min<int64_t>(cols, length()))
            return toMatrix(overviewFromStats(s, head, pool));
    }
    return toMatrix(pooledOverview(qk(l), head, q0, q1, k0, k1, rows, cols, pool));
}

int64_t TraceImpl::memoryBytes() const {
    int64_t n = m_logits.defined() ? int64_t(m_logits.nbytes()) : 0;
    for (const auto& c : m_layers)
        for (const at::Tensor* t : {&c.residIn, &c.residOut, &c.attnIn, &c.qPre, &c.kPre, &c.q, &c.k, &c.v,
                                    &c.headOut, &c.mlpIn, &c.mlpOut})
            if (t->defined()) n += int64_t(t->nbytes());
    for (const auto& s : m_stats) n += s.bytes();
    return n;
}

}  // namespace attnscope::core
