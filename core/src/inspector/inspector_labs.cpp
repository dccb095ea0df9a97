// The Inspector's labs: KV-cache eviction, quantization, Weibull fits and A^3.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "attnscope/error.h"
#include "inspector/inspector_impl.h"

namespace attnscope {
namespace {

// The prompt with values kept: what the KV-cache and score quantizers read.
TracePolicy valuesPolicy() {
    TracePolicy p = viewTracePolicy();
    p.keepValues = true;
    return p;
}

// A^3 reads pre-RoPE q/k, head outputs and MLP inputs besides the views' q/k.
TracePolicy a3Policy() {
    TracePolicy p = valuesPolicy();
    p.keepPreRope = p.keepMlp = true;
    return p;
}

}  // namespace

KvPrepared Inspector::prepareKv(const KvContinuation& continuation, const std::vector<KvParams>& cover,
                                const JobControl& job) {
    return guarded(
        [&] { return attnscope::prepareKv(m->requireModel(), m->requirePrompt(), continuation, cover, job); });
}

KvOutcome Inspector::evaluateKv(const KvInputs& inputs, const KvParams& params, const JobControl& job) {
    return guarded([&] { return attnscope::evaluateKv(m->requireModel(), inputs, params, job); });
}

std::vector<KvSweepRow> Inspector::sweepKv(const KvInputs& inputs, const std::vector<KvParams>& params,
                                           const JobControl& job, std::vector<std::string>* skipped) {
    return guarded([&] { return attnscope::sweepKv(m->requireModel(), inputs, params, job, skipped); });
}

std::shared_ptr<const Calibration> Inspector::calibration(const JobControl& job) {
    return guarded([&] {
        m->requirePrompt();
        if (!m->calibration) {
            Model& model = m->requireModel();
            m->calibration = std::make_shared<const Calibration>(
                calibrate(model, promptCalibrationWindows(model, m->prompt), CalibParams{}, job));
        }
        return m->calibration;
    });
}

QuantLab Inspector::quantLab(const WeightQuantParams& quant, const JobControl& job) {
    const std::shared_ptr<const Calibration> calib = calibration(job.part(0, 0.2));
    return guarded([&] { return computeQuantLab(m->requireModel(), *calib, quant, job.part(0.2, 1)); });
}

QuantModelResult Inspector::evaluateQuant(const WeightQuantParams& quant, ReconMethod method, int rank,
                                          const JobControl& job) {
    const std::shared_ptr<const Calibration> calib = calibration(job.part(0, 0));
    return guarded([&] {
        QuantParams qp;
        qp.quant = quant;
        qp.recon = method;
        qp.rank = rank;
        Model& model = m->requireModel();
        return quantizeModel(model, *calib, promptCalibrationWindows(model, m->prompt), qp, job);
    });
}

AttnQuantResult Inspector::kvQuant(const KvQuantParams& params, const JobControl& job) {
    const Trace& trace = this->trace(valuesPolicy(), job);
    return guarded([&] { return analyseKvQuant(trace, params, job); });
}

AttnQuantResult Inspector::scoreQuant(const ScoreQuantParams& params, const JobControl& job) {
    const Trace& trace = this->trace(valuesPolicy(), job);
    return guarded([&] { return analyseScoreQuant(trace, params, job); });
}

Matrix2D Inspector::kvQuantErrorMap(int layer, int head, const KvQuantParams& params, const JobControl& job) {
    const Trace& trace = this->trace(valuesPolicy(), job);
    return guarded([&] { return kvScoreErrorMap(trace, layer, head, params); });
}

Matrix2D Inspector::scoreQuantErrorMap(int layer, int head, const ScoreQuantParams& params, const JobControl& job) {
    const Trace& trace = this->trace(valuesPolicy(), job);
    return guarded([&] { return attnscope::scoreQuantErrorMap(trace, layer, head, params); });
}

std::vector<WeibullMatrixFit> Inspector::weibullFits(const WeibullParams& params, const JobControl& job) {
    job.check();
    return guarded([&] { return fitModelWeights(m->requireModel(), params); });
}

WeibullPlot Inspector::weibullPlot(const std::string& matrix, const WeibullParams& params) {
    return guarded([&] {
        const Matrix2D w = m->requireModel().weightMatrix(matrix);
        return attnscope::weibullPlot(w.data.data(), w.data.size(), params);
    });
}

std::vector<WeibullSeriesPoint> Inspector::weibullSeries(const std::string& directory, const WeibullParams& params,
                                                         const JobControl& job) {
    return guarded([&] {
        std::string root = directory;
        if (root.empty()) {  // the open model's directory (a .safetensors file stands for its directory)
            const std::filesystem::path p(m->requireModel().info().path);
            root = std::filesystem::is_directory(p) ? p.string() : p.parent_path().string();
        }
        return fitWeibullSeries(checkpointsIn(root), params, job);
    });
}

A3Result Inspector::a3(const std::vector<double>& fractions, const A3Params& params, double holdout,
                       const std::vector<std::vector<int32_t>>& calibration, const JobControl& job) {
    if (calibration.empty() && !(holdout > 0 && holdout < 1))
        fail(ErrorKind::BadInput, "the A^3 held-out share must be in (0, 1)");
    const Trace& trace = this->trace(a3Policy(), job.part(0, 0.3));
    const int64_t T = trace.length();
    if (T < 2) fail(ErrorKind::BadInput, "A^3 needs a prompt of at least 2 tokens");
    const int64_t row0 =
        calibration.empty() ? std::clamp<int64_t>(int64_t(std::lround(double(T) * (1 - holdout))), 1, T - 1) : 0;
    auto& stats = m->a3Stats[{row0, calibration}];
    if (!stats) {
        Model& model = m->requireModel();
        stats = guarded([&] {
            A3Accumulator acc(model);
            if (calibration.empty()) acc.add(trace, 0, row0, job.part(0.3, 0.6));
            for (size_t i = 0; i < calibration.size(); ++i) {
                if (calibration[i].empty()) continue;
                RunOptions ro;
                ro.trace = a3Policy();
                ro.job.stop = job.stop;
                const std::unique_ptr<Trace> t = model.run(calibration[i], ro);
                acc.add(*t, 0, t->length(), job.part(0.3 + 0.3 * double(i) / double(calibration.size()),
                                                     0.3 + 0.3 * double(i + 1) / double(calibration.size())));
            }
            return acc.finish();
        });
    }
    return guarded([&] { return computeA3(m->requireModel(), *stats, trace, row0, fractions, params, job.part(0.6, 1)); });
}

A3Result Inspector::a3(const A3Request& request, const JobControl& job) {
    std::vector<std::vector<int32_t>> calibration;
    if (!request.calibFile.empty()) {
        const std::vector<int32_t> ids = tokenize(readTextFile(request.calibFile), true);
        const Tokenizer* tok = m->requireModel().tokenizer();
        calibration = splitWindows(ids, std::min(kCalibrationWindow, info().contextLength), tok ? tok->bosId() : -1);
        if (calibration.empty()) fail(ErrorKind::BadInput, request.calibFile + ": no tokens to calibrate on");
    }
    return a3(request.fractions, request.params, request.holdout, calibration, job);
}

}  // namespace attnscope
