// The model-level pipeline: list the decoder's linear layers, fake-quantize each (with its
// reconstruction at the requested rank), rebuild the decoder with those weights and compare
// the two models' next-token distributions on held-out windows (reference §5).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "analyses/quant/quant_model_detail.h"
#include "attnscope/error.h"
#include "model/model_access.h"

namespace attnscope {

using namespace core;

namespace quant_detail {

at::Tensor& linearWeight(LayerWeights& L, const std::string& c) {
    if (c == "q") return L.wq;
    if (c == "k") return L.wk;
    if (c == "v") return L.wv;
    if (c == "o") return L.wo;
    if (c == "gate") return L.wGate;
    if (c == "up") return L.wUp;
    if (c == "down") return L.wDown;
    fail(ErrorKind::BadInput, "not a quantizable component: " + c);
}

}  // namespace quant_detail

namespace qd = quant_detail;

namespace {

struct Role {
    const char* component;
    LinearInput input;
};
constexpr Role kRoles[] = {{"q", LinearInput::AttnIn},  {"k", LinearInput::AttnIn},  {"v", LinearInput::AttnIn},
                           {"o", LinearInput::HeadOut}, {"gate", LinearInput::MlpIn}, {"up", LinearInput::MlpIn},
                           {"down", LinearInput::DownIn}};

const at::Tensor& weightOf(const Model& model, int layer, const std::string& component) {
    const Weights& w = ModelAccess::impl(model).decoder.weights();
    if (layer < 0 || layer >= int(w.layers.size())) fail(ErrorKind::BadInput, "layer out of range");
    return qd::linearWeight(const_cast<LayerWeights&>(w.layers[size_t(layer)]), component);
}

}  // namespace

std::vector<QuantMatrix> quantMatrices(const Model& model) {
    // The file's names where a tensor maps one-to-one onto a role; fused QKV tensors are
    // named with the part ("...query_key_value.weight[q]").
    std::map<std::pair<int, std::string>, std::string> fileNames;
    for (const Model::WeightTensorInfo& t : model.weightTensors()) fileNames[{t.layer, t.component}] = t.name;
    const Weights& w = ModelAccess::impl(model).decoder.weights();
    std::vector<QuantMatrix> out;
    for (int l = 0; l < int(w.layers.size()); ++l) {
        for (const Role& r : kRoles) {
            const at::Tensor& t = weightOf(model, l, r.component);
            if (!t.defined() || t.dim() != 2) continue;
            QuantMatrix m;
            m.layer = l;
            m.component = r.component;
            m.rows = t.size(0);
            m.cols = t.size(1);
            m.input = r.input;
            if (auto it = fileNames.find({l, r.component}); it != fileNames.end()) m.name = it->second;
            else if (auto f = fileNames.find({l, "qkv"}); f != fileNames.end() && m.input == LinearInput::AttnIn)
                m.name = f->second + "[" + r.component + "]";
            else m.name = "layers." + std::to_string(l) + "." + r.component;
            out.push_back(std::move(m));
        }
    }
    return out;
}

Matrix2D quantMatrixWeight(const Model& model, const QuantMatrix& m) {
    return guardTorch([&] {
        const at::Tensor t = weightOf(model, m.layer, m.component).detach().to(at::kCPU).to(at::kFloat).contiguous();
        Matrix2D out;
        out.rows = t.size(0);
        out.cols = t.size(1);
        out.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        return out;
    });
}

std::unique_ptr<Model> modelWithWeights(const Model& model, const std::vector<Matrix2D>& weights) {
    const std::vector<QuantMatrix> ms = quantMatrices(model);
    if (ms.size() != weights.size()) fail(ErrorKind::BadInput, "modelWithWeights: one matrix per quantMatrices() entry");
    return guardTorch([&] {
        const Decoder& dec = ModelAccess::impl(model).decoder;
        Weights w = dec.weights();  // tensors shared, the replaced ones below are new
        for (size_t i = 0; i < ms.size(); ++i) {
            const Matrix2D& m = weights[i];
            if (m.rows != ms[i].rows || m.cols != ms[i].cols || int64_t(m.data.size()) != m.rows * m.cols)
                fail(ErrorKind::BadInput, "modelWithWeights: " + ms[i].name + " has the wrong shape");
            at::Tensor& slot = qd::linearWeight(w.layers[size_t(ms[i].layer)], ms[i].component);
            slot = at::from_blob(const_cast<float*>(m.data.data()), {m.rows, m.cols}, at::kFloat)
                       .to(dec.device(), dec.dtype(), false, true);
        }
        return ModelAccess::withDecoder(model, Decoder(dec.config(), std::move(w), dec.device(), dec.dtype()));
    });
}

EvalResult compareModels(const Model& reference, const Model& quantized,
                         const std::vector<std::vector<int32_t>>& windows, const JobControl& job,
                         int64_t fromPosition) {
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const Decoder& a = ModelAccess::impl(reference).decoder;
        const Decoder& b = ModelAccess::impl(quantized).decoder;
        double nllA = 0, nllB = 0, kl = 0, agree = 0;
        int64_t n = 0;
        for (const std::vector<int32_t>& ids : windows) {
            if (ids.size() < 2) continue;
            if (job.stopRequested()) fail(ErrorKind::Cancelled, "evaluation cancelled");
            const at::Tensor t = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
            auto logProbs = [&](const Decoder& d) {
                ForwardRequest req;
                req.ids = t.to(d.device());
                req.job.stop = job.stop;
                return at::log_softmax(d.forward(req).logits.to(at::kCPU).to(at::kDouble), -1);  // [T, V]
            };
            const int64_t T = int64_t(ids.size()), t0 = std::clamp<int64_t>(fromPosition, 0, T - 1);
            if (t0 >= T - 1) continue;
            const at::Tensor la = logProbs(a).slice(0, t0, T - 1), lb = logProbs(b).slice(0, t0, T - 1);
            const at::Tensor next = t.slice(0, t0 + 1, T).unsqueeze(1);
            nllA -= la.gather(1, next).sum().item<double>();
            nllB -= lb.gather(1, next).sum().item<double>();
            kl += (la.exp() * (la - lb)).sum().item<double>();
            agree += (la.argmax(1) == lb.argmax(1)).sum().item<double>();
            n += T - 1 - t0;
        }
        if (n == 0) fail(ErrorKind::BadInput, "evaluation needs a window of at least 2 tokens");
        return EvalResult{std::exp(nllB / double(n)), std::exp(nllA / double(n)), kl / double(n), agree / double(n), n};
    });
}

std::vector<ReconLab> reconLabs(const Model& model, const Calibration& calib, const WeightQuantParams& quant,
                                const ReconParams& params, const JobControl& job) {
    const std::vector<QuantMatrix> ms = quantMatrices(model);
    if (calib.nLayers != model.info().nLayers) fail(ErrorKind::BadInput, "calibration is of another model");
    std::vector<ReconLab> labs;
    for (size_t i = 0; i < ms.size(); ++i) {
        if (job.stopRequested()) fail(ErrorKind::Cancelled, "quantization cancelled");
        const Matrix2D w = quantMatrixWeight(model, ms[i]);
        const Matrix2D wq{w.rows, w.cols, fakeQuantize(w.data.data(), w.rows, w.cols, quant)};
        labs.emplace_back(w, wq, calib.of(ms[i].layer, ms[i].input), params);
        job.report(double(i + 1) / double(ms.size()));
    }
    return labs;
}

QuantModelResult quantizeModel(Model& model, const Calibration& calib,
                               const std::vector<std::vector<int32_t>>& evalWindows, const QuantParams& params,
                               const JobControl& job) {
    const std::vector<QuantMatrix> ms = quantMatrices(model);
    if (calib.nLayers != model.info().nLayers) fail(ErrorKind::BadInput, "calibration is of another model");
    if (params.recon != ReconMethod::None && params.rank < 0) fail(ErrorKind::BadInput, "rank must be >= 0");
    QuantModelResult out;
    std::vector<Matrix2D> corrected;
    ReconParams rp = params.reconParams;
    rp.methods = {params.recon};
    for (size_t i = 0; i < ms.size(); ++i) {
        if (job.stopRequested()) fail(ErrorKind::Cancelled, "quantization cancelled");
        const QuantMatrix& m = ms[i];
        Matrix2D w = quantMatrixWeight(model, m);
        Matrix2D wq{w.rows, w.cols, fakeQuantize(w.data.data(), w.rows, w.cols, params.quant)};
        // Only ranks up to the requested one are kept: the rest of the SVD is not needed here.
        rp.maxRank = params.recon == ReconMethod::None ? 0 : params.rank;
        const ReconLab lab(w, wq, calib.of(m.layer, m.input), rp);
        QuantMatrixResult r{m, lab.quantOnly(), lab.at(params.recon, params.rank)};
        out.matrices.push_back(r);
        corrected.push_back(params.recon == ReconMethod::None ? std::move(wq) : lab.corrected(params.recon, params.rank));
        job.report(0.5 * double(i + 1) / double(ms.size()));
    }
    if (params.evaluate && !evalWindows.empty()) {
        const std::unique_ptr<Model> q = modelWithWeights(model, corrected);
        const EvalResult e = compareModels(model, *q, evalWindows, job);
        out.ppl = e.ppl;
        out.pplFp = e.pplRef;
        out.kl = e.kl;
        out.top1Agreement = e.top1Agreement;
        out.evalTokens = e.tokens;
    }
    job.report(1.0);
    return out;
}

}  // namespace attnscope
