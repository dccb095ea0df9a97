#include "quant_dock.h"

#include <algorithm>
#include <chrono>

#include <QDockWidget>
#include <QLoggingCategory>
#include <QMainWindow>

#include "attnscope/error.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "timing.h"
#include "panels/quant_panel.h"
#include "selection_model.h"
#include "token_strip.h"

namespace attnscope::app {

QuantDock::QuantDock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent)
    : PanelDock(host, panelId, parent), m_worker(host.worker), m_selection(host.selection) {
    QMainWindow* window = host.window;
    InspectorWorker* worker = host.worker;
    SelectionModel* selection = host.selection;
    m_panel = new widgets::QuantPanel(window);
    setPanel(m_panel, title);

    connect(dock(), &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible) startIfWanted();
    });
    connect(m_panel, &widgets::QuantPanel::weightParamsChanged, this, &QuantDock::requestLabs);
    connect(m_panel, &widgets::QuantPanel::evaluateRequested, this, &QuantDock::requestEvaluation);
    connect(m_panel, &widgets::QuantPanel::kvParamsChanged, this, &QuantDock::requestKv);
    connect(m_panel, &widgets::QuantPanel::headMapRequested, this, &QuantDock::requestHeadMap);
    connect(m_panel, &widgets::QuantPanel::cancelRequested, this, [this] {
        cancelRunJobs();
        m_panel->setDone(tr("Cancelled"));
    });
    connect(m_panel, &widgets::QuantPanel::layerSelected, selection, &SelectionModel::setLayer);
    connect(selection, &SelectionModel::layerHeadChanged, m_panel,
            [this](int layer, int head) { m_panel->followLayerHead(layer, std::max(0, head)); });
    connect(worker, &InspectorWorker::jobFailed, this, &QuantDock::onJobFailed);
    connect(worker, &InspectorWorker::jobProgress, this, [this](const QString& tag, double f) {
        if (tag == jobTag("labs")) m_panel->setProgress(tr("Calibrating and preparing every matrix's SVDs\u2026"), f);
        else if (tag == jobTag("eval")) m_panel->setProgress(tr("Quantizing the model and comparing it with the original\u2026"), f);
    });
}

QuantDock::~QuantDock() = default;

void QuantDock::onModelLoaded() {
    cancelRunJobs();
    m_haveRun = false;
    m_panel->clear();
}

void QuantDock::onRunStarted() {
    cancelRunJobs();
    m_haveRun = false;
    m_labsDone = m_kvDone = false;
}

void QuantDock::onRunDone(const PromptInfo& run) {
    m_haveRun = true;
    m_labsDone = m_kvDone = m_headDone = m_shown = false;
    m_tokens.clear();
    const widgets::PieceStyle style = widgets::detectPieceStyle(run.tokens.pieces);
    for (const std::string& piece : run.tokens.pieces) m_tokens << widgets::displayPiece(piece, style);
    startIfWanted();
}

void QuantDock::cancelRunJobs() {
    for (const QString& tag : {jobTag("labs"), jobTag("eval"), jobTag("kv"), jobTag("headmap")}) m_worker->cancel(tag);
}

void QuantDock::startIfWanted() {
    if (!m_haveRun || !dock()->isVisible()) return;
    if (!m_labsDone && !m_worker->isPending(jobTag("labs"))) requestLabs(m_panel->weightParams());
    if (!m_kvDone && !m_worker->isPending(jobTag("kv"))) requestKv(m_panel->kvParams());
}

void QuantDock::requestLabs(const WeightQuantParams& params) {
    if (!m_haveRun) return;
    m_worker->cancel(jobTag("eval"));  // its numbers would describe other weights
    m_panel->setEvaluation(QString());
    m_panel->setProgress(tr("Calibrating and preparing every matrix's SVDs\u2026"), 0);
    m_worker->post(jobTag("labs"), this, [this, params](JobContext& ctx) -> InspectorWorker::GuiApply {
        const auto start = std::chrono::steady_clock::now();
        auto view = std::make_shared<widgets::QuantLabView>(ctx.inspector().quantLab(params, ctx.job()));
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
    m_worker->post(jobTag("eval"), this, [this, params, method, rank](JobContext& ctx) -> InspectorWorker::GuiApply {
        const QuantModelResult r = ctx.inspector().evaluateQuant(params, method, rank, ctx.job());
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
    m_worker->post(jobTag("kv"), this, [this, params](JobContext& ctx) -> InspectorWorker::GuiApply {
        Inspector& inspector = ctx.inspector();
        auto r = std::make_shared<AttnQuantResult>(params.scores ? inspector.scoreQuant(params.score, ctx.job())
                                                                 : inspector.kvQuant(params.kv, ctx.job()));
        const std::vector<int64_t> sinks = inspector.sinkPositions({}, ctx.job());  // the sinks panel's defaults
        return [this, r, sinks] {
            m_kvDone = true;
            m_panel->setKv(*r, m_tokens, sinks);
        };
    }, InspectorWorker::Priority::Preemptible);
}

void QuantDock::requestHeadMap(int layer, int head, const widgets::KvPanelParams& params) {
    if (!m_haveRun) return;
    m_worker->post(jobTag("headmap"), this, [this, layer, head, params](JobContext& ctx) -> InspectorWorker::GuiApply {
        Inspector& inspector = ctx.inspector();
        auto map = std::make_shared<Matrix2D>(params.scores ? inspector.scoreQuantErrorMap(layer, head, params.score, ctx.job())
                                                            : inspector.kvQuantErrorMap(layer, head, params.kv, ctx.job()));
        return [this, layer, head, map] {
            m_panel->setHeadMap(layer, head, *map);
            m_headDone = true;
            reportShown();
        };
    }, InspectorWorker::Priority::Preemptible);
}

void QuantDock::onJobFailed(const QString& tag, const QString& message, bool cancelled) {
    if (cancelled || !(tag == jobTag("labs") || tag == jobTag("eval") || tag == jobTag("kv") || tag == jobTag("headmap"))) return;
    m_panel->setDone(tr("\u26a0 Quantization: %1").arg(message));
}

void QuantDock::reportShown() {
    if (m_shown || !m_labsDone || !m_kvDone || !m_headDone) return;
    m_shown = true;
    emit panelShown(id());
}

}  // namespace attnscope::app
