#include "dock_scroll.h"
#include "quant_dock.h"

#include <algorithm>
#include <chrono>

#include <QDockWidget>
#include <QLoggingCategory>
#include <QMainWindow>

#include "attnscope/analyses/sinks.h"
#include "attnscope/error.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "panels/quant_panel.h"
#include "selection_model.h"
#include "token_strip.h"

Q_DECLARE_LOGGING_CATEGORY(lcTiming)

namespace attnscope::app {

// What the quantization jobs reuse between requests for one run. Worker thread only.
struct QuantWorkerCache {
    quint64 run = 0;  // QuantDock's run counter these entries belong to
    std::shared_ptr<const Calibration> calib;
    std::unique_ptr<Trace> trace;  // the prompt re-run with values kept
    std::vector<int64_t> sinks;
};

namespace {

const QString kLabs = QStringLiteral("quant-labs");
const QString kEval = QStringLiteral("quant-eval");
const QString kKv = QStringLiteral("quant-kv");
const QString kHeadMap = QStringLiteral("quant-headmap");
constexpr int kCalibWindow = 512;  // tokens per calibration forward pass

quint64 g_runCounter = 0;  // GUI thread: every run gets a new number

double msSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Model& currentModel(JobContext& ctx) {
    if (!ctx.state.model) fail(ErrorKind::BadInput, "Open a model first");
    if (!ctx.state.trace) fail(ErrorKind::BadInput, "Run a prompt first");
    return *ctx.state.model;
}

void useRun(QuantWorkerCache& cache, quint64 run) {
    if (cache.run == run) return;
    cache = {};
    cache.run = run;
}

std::vector<std::vector<int32_t>> promptWindows(JobContext& ctx) {
    const int window = std::min(kCalibWindow, std::max(2, ctx.state.model->info().contextLength));
    return splitWindows(ctx.state.trace->ids(), window, -1);
}

const Calibration& calibration(JobContext& ctx, QuantWorkerCache& cache, const std::function<void(double)>& progress) {
    if (!cache.calib)
        cache.calib = std::make_shared<const Calibration>(
            calibrate(currentModel(ctx), promptWindows(ctx), CalibParams{}, ctx.stop, progress));
    return *cache.calib;
}

// The prompt again with q, k and v kept (the main run keeps no values), and its sinks.
const Trace& valuesTrace(JobContext& ctx, QuantWorkerCache& cache) {
    if (cache.trace) return *cache.trace;
    Model& model = currentModel(ctx);
    RunOptions ro;
    ro.trace.keepPreRope = false;
    ro.trace.keepLogits = false;
    ro.stop = ctx.stop;
    cache.trace = model.run(ctx.state.trace->ids(), ro);
    try {  // the same sinks the sinks panel shows with its default parameters
        SinkParams sp;
        SinkInputOptions so;
        so.stop = ctx.stop;
        const SinkResult sr = classifySinks(computeSinkInputs(*cache.trace, sp.minQueryPos, so), sp);
        for (const SinkToken& s : sr.sinks) cache.sinks.push_back(s.token);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::Cancelled) throw;
        cache.sinks.clear();  // too short a prompt to classify: no marks
    }
    return *cache.trace;
}

widgets::QuantLabView labsOnWorker(JobContext& ctx, QuantWorkerCache& cache, const WeightQuantParams& params) {
    const Model& model = currentModel(ctx);
    const Calibration& calib = calibration(ctx, cache, [&](double f) { ctx.progress(0.2 * f); });
    std::vector<ReconLab> labs =
        reconLabs(model, calib, params, {}, ctx.stop, [&](double f) { ctx.progress(0.2 + 0.8 * f); });
    widgets::QuantLabView view;
    view.quant = params;
    view.calibTokens = calib.tokens;
    view.matrices = quantMatrices(model);
    for (const ReconLab& lab : labs) {
        view.quantOnly.push_back(lab.quantOnly());
        std::vector<ReconCurve> curves;
        for (ReconMethod m : kReconMethods) curves.push_back(lab.curve(m));
        view.curves.push_back(std::move(curves));
    }
    return view;
}

}  // namespace

QuantDock::QuantDock(QMainWindow* window, InspectorWorker* worker, SelectionModel* selection, QObject* parent)
    : QObject(parent), m_worker(worker), m_selection(selection), m_cache(std::make_shared<QuantWorkerCache>()) {
    m_panel = new widgets::QuantPanel(window);
    m_dock = new QDockWidget(tr("Quantization Error"), window);
    m_dock->setObjectName(QStringLiteral("quantDock"));
    m_dock->setWidget(scrollableDockContent(m_panel));
    window->addDockWidget(Qt::RightDockWidgetArea, m_dock);

    connect(m_dock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible) startIfWanted();
    });
    connect(m_panel, &widgets::QuantPanel::weightParamsChanged, this, &QuantDock::requestLabs);
    connect(m_panel, &widgets::QuantPanel::evaluateRequested, this, &QuantDock::requestEvaluation);
    connect(m_panel, &widgets::QuantPanel::kvParamsChanged, this, &QuantDock::requestKv);
    connect(m_panel, &widgets::QuantPanel::headMapRequested, this, &QuantDock::requestHeadMap);
    connect(m_panel, &widgets::QuantPanel::cancelRequested, this, [this] {
        cancelAll();
        m_panel->setDone(tr("Cancelled"));
    });
    connect(m_panel, &widgets::QuantPanel::layerSelected, selection, &SelectionModel::setLayer);
    connect(selection, &SelectionModel::layerHeadChanged, m_panel,
            [this](int layer, int head) { m_panel->followLayerHead(layer, std::max(0, head)); });
    connect(worker, &InspectorWorker::jobFailed, this, &QuantDock::onJobFailed);
    connect(worker, &InspectorWorker::jobProgress, this, [this](const QString& tag, double f) {
        if (tag == kLabs) m_panel->setProgress(tr("Calibrating and preparing every matrix's SVDs\u2026"), f);
        else if (tag == kEval) m_panel->setProgress(tr("Quantizing the model and comparing it with the original\u2026"), f);
    });
}

QuantDock::~QuantDock() = default;

void QuantDock::onModelLoaded() {
    cancelAll();
    m_haveRun = false;
    m_panel->clear();
}

void QuantDock::onRunStarted() {
    cancelAll();
    m_haveRun = false;
    m_labsDone = m_kvDone = false;
}

void QuantDock::onRunDone(const RunResult& run) {
    ++g_runCounter;
    m_haveRun = true;
    m_labsDone = m_kvDone = m_headDone = m_shown = false;
    m_tokens.clear();
    const widgets::PieceStyle style = widgets::detectPieceStyle(run.tokens.pieces);
    for (const std::string& piece : run.tokens.pieces) m_tokens << widgets::displayPiece(piece, style);
    startIfWanted();
}

void QuantDock::cancelAll() {
    for (const QString& tag : {kLabs, kEval, kKv, kHeadMap}) m_worker->cancel(tag);
}

void QuantDock::startIfWanted() {
    if (!m_haveRun || !m_dock->isVisible()) return;
    if (!m_labsDone && !m_worker->isPending(kLabs)) requestLabs(m_panel->weightParams());
    if (!m_kvDone && !m_worker->isPending(kKv)) requestKv(m_panel->kvParams());
}

void QuantDock::requestLabs(const WeightQuantParams& params) {
    if (!m_haveRun) return;
    m_worker->cancel(kEval);  // its numbers would describe other weights
    m_panel->setEvaluation(QString());
    m_panel->setProgress(tr("Calibrating and preparing every matrix's SVDs\u2026"), 0);
    const quint64 run = g_runCounter;
    m_worker->post(kLabs, this, [this, params, run, cache = m_cache](JobContext& ctx) -> InspectorWorker::GuiApply {
        const auto start = std::chrono::steady_clock::now();
        useRun(*cache, run);
        auto view = std::make_shared<widgets::QuantLabView>(labsOnWorker(ctx, *cache, params));
        const double ms = msSince(start);
        return [this, view, ms] {
            m_labsDone = true;
            m_panel->setLab(*view);
            m_panel->setDone(tr("%1 matrices, %2 calibration tokens: every method's SVD in %3 ms; the rank slider "
                                "redraws from these tables")
                                 .arg(view->matrices.size()).arg(view->calibTokens).arg(ms, 0, 'f', 0));
            qCInfo(lcTiming, "quant labs: %zu matrices in %.0f ms", view->matrices.size(), ms);
            reportShown();
        };
    }, InspectorWorker::Priority::Preemptible);
}

void QuantDock::requestEvaluation(const WeightQuantParams& params, ReconMethod method, int rank) {
    if (!m_haveRun) return;
    m_panel->setProgress(tr("Quantizing the model and comparing it with the original\u2026"), 0);
    const quint64 run = g_runCounter;
    m_worker->post(kEval, this, [this, params, method, rank, run, cache = m_cache](JobContext& ctx) -> InspectorWorker::GuiApply {
        useRun(*cache, run);
        Model& model = currentModel(ctx);
        const Calibration& calib = calibration(ctx, *cache, [](double) {});
        QuantParams qp;
        qp.quant = params;
        qp.recon = method;
        qp.rank = rank;
        const QuantModelResult r = quantizeModel(model, calib, promptWindows(ctx), qp, ctx.stop, ctx.progress);
        const QString text =
            tr("%1 %2-bit + %3%4 on the prompt (%5 predicted tokens): perplexity %6 vs %7 full precision, "
               "next-token KL %8 nats, top-1 agreement %9")
                .arg(QString::fromStdString(params.scheme)).arg(params.bits).arg(widgets::reconMethodLabel(method))
                .arg(method == ReconMethod::None ? QString() : tr(" rank %1").arg(rank)).arg(r.evalTokens)
                .arg(r.ppl, 0, 'f', 3).arg(r.pplFp, 0, 'f', 3).arg(r.kl, 0, 'g', 3).arg(r.top1Agreement, 0, 'f', 3);
        return [this, text] {
            m_panel->setEvaluation(text);
            m_panel->setDone(tr("End-to-end evaluation done"));
        };
    }, InspectorWorker::Priority::Preemptible);
}

void QuantDock::requestKv(const widgets::KvPanelParams& params) {
    if (!m_haveRun) return;
    const quint64 run = g_runCounter;
    m_worker->post(kKv, this, [this, params, run, cache = m_cache](JobContext& ctx) -> InspectorWorker::GuiApply {
        useRun(*cache, run);
        const Trace& trace = valuesTrace(ctx, *cache);
        auto r = std::make_shared<AttnQuantResult>(params.scores ? analyseScoreQuant(trace, params.score, ctx.stop)
                                                                 : analyseKvQuant(trace, params.kv, ctx.stop));
        return [this, r, sinks = cache->sinks] {
            m_kvDone = true;
            m_panel->setKv(*r, m_tokens, sinks);
        };
    }, InspectorWorker::Priority::Preemptible);
}

void QuantDock::requestHeadMap(int layer, int head, const widgets::KvPanelParams& params) {
    if (!m_haveRun) return;
    const quint64 run = g_runCounter;
    m_worker->post(kHeadMap, this, [this, layer, head, params, run, cache = m_cache](JobContext& ctx) -> InspectorWorker::GuiApply {
        useRun(*cache, run);
        const Trace& trace = valuesTrace(ctx, *cache);
        auto map = std::make_shared<Matrix2D>(params.scores ? scoreQuantErrorMap(trace, layer, head, params.score)
                                                            : kvScoreErrorMap(trace, layer, head, params.kv));
        return [this, layer, head, map] {
            m_panel->setHeadMap(layer, head, *map);
            m_headDone = true;
            reportShown();
        };
    }, InspectorWorker::Priority::Preemptible);
}

void QuantDock::onJobFailed(const QString& tag, const QString& message, bool cancelled) {
    if (cancelled || !(tag == kLabs || tag == kEval || tag == kKv || tag == kHeadMap)) return;
    m_panel->setDone(tr("\u26a0 Quantization: %1").arg(message));
}

void QuantDock::reportShown() {
    if (m_shown || !m_labsDone || !m_kvDone || !m_headDone) return;
    m_shown = true;
    emit panelShown(QStringLiteral("quant"));
}

}  // namespace attnscope::app
