// The Inspector's labs: KV-cache eviction, quantization, Weibull fits and A^3.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "analyses/a3/a3_apply.h"
#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "inspector/inspector_impl.h"
#include "model/model_access.h"

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

namespace {

// What the A^3 sweep and its end-to-end run read: the prompt's trace, where its held-out rows
// start, and the calibration moments (cached per prompt and calibration).
struct A3Inputs {
    const Trace* trace = nullptr;
    int64_t row0 = 0;
    std::shared_ptr<const A3Stats> stats;
};

std::vector<std::vector<int32_t>> a3Windows(Inspector& inspector, const std::string& file) {
    if (file.empty()) return {};
    const std::vector<int32_t> ids = inspector.tokenize(readTextFile(file), true);
    const Tokenizer* tok = inspector.model().tokenizer();
    auto windows = splitWindows(ids, std::min(kCalibrationWindow, inspector.info().contextLength), tok ? tok->bosId() : -1);
    if (windows.empty()) fail(ErrorKind::BadInput, file + ": no tokens to calibrate on");
    return windows;
}

}  // namespace

struct Inspector::A3Access {
    static A3Inputs inputs(Inspector& self, double holdout, const std::vector<std::vector<int32_t>>& calibration,
                           const JobControl& job) {
        Impl& m = *self.m;
        if (calibration.empty() && !(holdout > 0 && holdout < 1))
            fail(ErrorKind::BadInput, "the A^3 held-out share must be in (0, 1)");
        A3Inputs in;
        in.trace = &self.trace(a3Policy(), job.part(0, 0.5));
        const int64_t T = in.trace->length();
        if (T < 2) fail(ErrorKind::BadInput, "A^3 needs a prompt of at least 2 tokens");
        in.row0 = calibration.empty() ? std::clamp<int64_t>(int64_t(std::lround(double(T) * (1 - holdout))), 1, T - 1) : 0;
        auto& stats = m.a3Stats[{in.row0, calibration}];
        if (!stats) {
            Model& model = m.requireModel();
            stats = guarded([&] {
                A3Accumulator acc(model);
                if (calibration.empty()) acc.add(*in.trace, 0, in.row0, job.part(0.5, 1));
                for (size_t i = 0; i < calibration.size(); ++i) {
                    if (calibration[i].empty()) continue;
                    RunOptions ro;
                    ro.trace = a3Policy();
                    ro.job.stop = job.stop;
                    const std::unique_ptr<Trace> t = model.run(calibration[i], ro);
                    acc.add(*t, 0, t->length(), job.part(0.5 + 0.5 * double(i) / double(calibration.size()),
                                                         0.5 + 0.5 * double(i + 1) / double(calibration.size())));
                }
                return acc.finish();
            });
        }
        in.stats = stats;
        return in;
    }

    // The request's sweep, kept until the next request or prompt (an end-to-end run or an
    // apply after the panel's sweep reads it again).
    static std::shared_ptr<const A3Result> sweep(Inspector& self, const A3Request& request, const JobControl& job) {
        std::ostringstream key;
        key.precision(17);
        for (double f : request.fractions) key << f << ',';
        key << '|' << a3RopeName(request.params.rope) << '|' << request.params.refit << '|' << request.params.damping
            << '|' << request.holdout << '|' << request.calibFile;
        Impl& m = *self.m;
        if (m.a3Sweep && m.a3SweepKey == key.str()) return m.a3Sweep;
        auto r = std::make_shared<const A3Result>(
            self.a3(request.fractions, request.params, request.holdout, a3Windows(self, request.calibFile), job));
        m.a3Sweep = r;  // after the computation: a cancelled or failed sweep leaves the last one
        m.a3SweepKey = key.str();
        return r;
    }
};

A3Result Inspector::a3(const std::vector<double>& fractions, const A3Params& params, double holdout,
                       const std::vector<std::vector<int32_t>>& calibration, const JobControl& job) {
    const A3Inputs in = A3Access::inputs(*this, holdout, calibration, job.part(0, 0.6));
    return guarded([&] { return computeA3(m->requireModel(), *in.stats, *in.trace, in.row0, fractions, params, job.part(0.6, 1)); });
}

A3Result Inspector::a3(const A3Request& request, const JobControl& job) {
    return *A3Access::sweep(*this, request, job);
}

A3EndToEnd Inspector::a3EndToEnd(const Options& options, int continuation, const JobControl& job) {
    const A3Request request = a3RequestFrom(options);
    const A3Profile profile = a3ProfileFrom(*A3Access::sweep(*this, request, job.part(0, 0.5)), options);
    return a3EndToEnd(request, profile, continuation, job.part(0.5, 1));
}

void Inspector::a3Apply(const Options& options, const JobControl& job) {
    const A3Request request = a3RequestFrom(options);
    a3Restore();  // the profile is read off the original weights' sweep
    const A3Profile profile = a3ProfileFrom(*A3Access::sweep(*this, request, job.part(0, 0.5)), options);
    a3Apply(request, profile, job.part(0.5, 1));
}

A3EndToEnd Inspector::a3EndToEnd(const A3Request& request, const A3Profile& profile, int continuation,
                                 const JobControl& job) {
    if (continuation < 0) fail(ErrorKind::BadInput, "A^3: the continuation length must be >= 0");
    const A3Inputs in = A3Access::inputs(*this, request.holdout, a3Windows(*this, request.calibFile), job.part(0, 0.3));
    Model& model = m->requireModel();
    A3EndToEnd out;
    out.profile = profile;
    const std::unique_ptr<Model> reduced = guarded([&] {
        return a3ReducedModel(model, *in.stats, *in.trace, in.row0, profile, request.params, out, job.part(0.3, 0.6));
    });
    const std::vector<int32_t>& ids = m->requirePrompt();
    const EvalResult e = guarded([&] { return compareModels(model, *reduced, {ids}, job.part(0.6, 0.8), in.row0); });
    out.ppl = e.ppl;
    out.pplFull = e.pplRef;
    out.kl = e.kl;
    out.top1 = e.top1Agreement;
    out.tokens = e.tokens;
    if (continuation > 0) {
        out.continuationFull = guarded([&] { return model.generate(ids, continuation, false, job.part(0.8, 0.9)).tokens; });
        out.continuation = guarded([&] { return reduced->generate(ids, continuation, false, job.part(0.9, 1)).tokens; });
    }
    const ModelInfo& info = model.info();
    out.kvBytesFull = a3KvBytesPerToken(info.nLayers, info.nKvHeads, info.headDim, info.headDim, 2);
    for (size_t l = 0; l < profile.ranks.size(); ++l) {
        const int rqk = out.note.empty() ? profile.ranks[l][0] : info.headDim;  // QK left whole: see note
        out.kvBytesReduced += a3KvBytesPerToken(1, info.nKvHeads, rqk, profile.ranks[l][1], 2);
    }
    return out;
}

void Inspector::a3Apply(const A3Request& request, const A3Profile& profile, const JobControl& job) {
    a3Restore();  // cut the original weights, never a reduced copy
    const A3Inputs in = A3Access::inputs(*this, request.holdout, a3Windows(*this, request.calibFile), job.part(0, 0.5));
    Model& model = m->requireModel();
    A3EndToEnd report;
    const std::unique_ptr<Model> reduced = guarded([&] {
        return a3ReducedModel(model, *in.stats, *in.trace, in.row0, profile, request.params, report, job.part(0.5, 1));
    });
    guarded([&] {
        core::Decoder& live = ModelAccess::decoder(model);
        m->a3Original = std::make_unique<core::Decoder>(live);
        live = ModelAccess::impl(*reduced).decoder;
    });
    m->a3Applied = "A^3 " + profile.name + (report.note.empty() ? "" : "; " + report.note);
    m->dropTraces();  // they are of the full model
}

void Inspector::a3Restore() {
    if (!m->a3Original) return;
    guarded([&] { ModelAccess::decoder(m->requireModel()) = *m->a3Original; });
    m->a3Original.reset();
    m->a3Applied.clear();
    m->dropTraces();
}

std::string Inspector::a3Applied() const { return m->a3Applied; }

}  // namespace attnscope
