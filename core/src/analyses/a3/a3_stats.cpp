// A^3 calibration moments: per layer Σ qᵀq, Σ kᵀk and Σ oᵀo per head (pre-RoPE q/k, head
// outputs) and Σ hᵀh of the MLP's intermediate, float64 on the CPU, accumulated over traced rows.
#include <ATen/ATen.h>

#include "analyses/a3/a3_detail.h"
#include "analyses/quant/quant_model_detail.h"
#include "attnscope/error.h"
#include "model/model_access.h"
#include "trace/trace_impl.h"

namespace attnscope {

struct A3Accumulator::Impl {
    const Model& model;
    A3Stats stats;
};

namespace {

// Σ over rows of xᵀx per head: x [n, heads, d] -> [heads, d, d] float64 CPU.
at::Tensor headMoments(const at::Tensor& x) {
    const at::Tensor h = x.to(at::kCPU, at::kDouble).permute({1, 0, 2});  // [heads, n, d]
    return h.transpose(1, 2).bmm(h);
}

void addTo(at::Tensor& sum, const at::Tensor& delta) {
    if (sum.defined()) sum += delta;
    else sum = delta;
}

}  // namespace

A3Accumulator::A3Accumulator(const Model& model) : m(std::make_unique<Impl>(Impl{model, {}})) {
    const core::ModelConfig& c = ModelAccess::impl(model).decoder.config();
    A3Stats& s = m->stats;
    static_cast<ModelShape&>(s) = c;
    s.gq.resize(size_t(c.nLayers));
    s.gk.resize(size_t(c.nLayers));
    s.go.resize(size_t(c.nLayers));
    s.rh.resize(size_t(c.nLayers));
}

A3Accumulator::~A3Accumulator() = default;

void A3Accumulator::add(const Trace& trace, int64_t row0, int64_t row1, const JobControl& job) {
    const auto* ti = dynamic_cast<const core::TraceImpl*>(&trace);
    if (!ti) fail(ErrorKind::BadInput, "the A^3 statistics need a trace from Model::run");
    if (row0 < 0 || row1 > trace.length() || row0 >= row1) fail(ErrorKind::BadInput, "A^3: empty calibration rows");
    A3Stats& s = m->stats;
    if (trace.nLayers() != s.nLayers || trace.headDim() != s.headDim)
        fail(ErrorKind::BadInput, "A^3: the trace is of another model");
    guardTorch([&] {
        at::NoGradGuard noGrad;
        const core::Decoder& dec = ModelAccess::impl(m->model).decoder;
        for (int l = 0; l < s.nLayers; ++l) {
            job.check();
            const core::LayerCapture& c = ti->layer(l);
            const at::Tensor& q = c.qPre.defined() ? c.qPre : c.q;
            const at::Tensor& k = c.kPre.defined() ? c.kPre : c.k;
            if (!q.defined() || !k.defined() || !c.headOut.defined() || !c.mlpIn.defined())
                fail(ErrorKind::NotFound, "A^3 needs the trace's q/k, head outputs and MLP inputs");
            addTo(s.gq[size_t(l)], headMoments(q.slice(0, row0, row1)));
            addTo(s.gk[size_t(l)], headMoments(k.slice(0, row0, row1)));
            addTo(s.go[size_t(l)], headMoments(c.headOut.slice(0, row0, row1)));
            const core::LayerWeights& w = dec.weights().layers[size_t(l)];
            const at::Tensor h =
                quant_detail::downInput(dec.config(), w, c.mlpIn.slice(0, row0, row1).to(w.wDown.device(), w.wDown.scalar_type()))
                    .to(at::kCPU, at::kDouble);
            addTo(s.rh[size_t(l)], h.t().mm(h));
            job.report(double(l + 1) / s.nLayers);
        }
    });
    s.tokens += row1 - row0;
}

int64_t A3Accumulator::tokens() const { return m->stats.tokens; }

std::shared_ptr<const A3Stats> A3Accumulator::finish() {
    if (m->stats.tokens <= 0) fail(ErrorKind::BadInput, "A^3 needs at least one calibration token");
    return std::make_shared<const A3Stats>(std::move(m->stats));
}

}  // namespace attnscope
