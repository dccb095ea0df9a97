#include "sinks_dock.h"

#include <QDockWidget>
#include <QLoggingCategory>
#include <QMainWindow>

#include "analysis_jobs.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "timing.h"
#include "panels/sinks_panel.h"
#include "selection_model.h"

namespace attnscope::app {
namespace {

// The parameters the panel edits (the others keep their defaults).
bool sameParams(const SinkParams& a, const SinkParams& b) {
    return a.epsilon == b.epsilon && a.cosThreshold == b.cosThreshold && a.minQueryPos == b.minQueryPos &&
           a.rule == b.rule && a.sinkClipper == b.sinkClipper && a.source == b.source;
}

}  // namespace

SinksDock::SinksDock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent) : PanelDock(host, panelId, parent) {
    m_classifier = new InspectorWorker(this);
    m_sinks = new widgets::SinksPanel(host.window);
    setPanel(m_sinks, title);
    SelectionModel* selection = host.selection;
    connect(m_sinks, &widgets::SinksPanel::tokenSelected, selection,
            [selection](qint64 t) { selection->setToken(int(t)); });
    connect(m_sinks, &widgets::SinksPanel::tokensSelected, selection, &SelectionModel::setTokens);
    connect(selection, &SelectionModel::tokenChanged, m_sinks, [this](int t) { m_sinks->selectToken(t); });
    connect(selection, &SelectionModel::tokensChanged, m_sinks, &widgets::SinksPanel::selectTokens);
    connect(m_sinks, &widgets::SinksPanel::paramsChanged, this, &SinksDock::requestSinks);
    connect(host.worker, &InspectorWorker::jobFailed, this, &SinksDock::onJobFailed);
    connect(m_classifier, &InspectorWorker::jobFailed, this, &SinksDock::onJobFailed);
    connect(host.worker, &InspectorWorker::jobProgress, this, [this](const QString& tag, double f) {
        if (tag == jobTag("inputs")) m_sinks->setStatus(tr("Computing sink statistics\u2026 %1%").arg(int(f * 100)));
    });
}

void SinksDock::onRunStarted() {
    cancelRunJobs();
    m_haveTrace = false;
    m_sinkInputs.reset();
    m_sinks->clear();
}

void SinksDock::onRunDone(const PromptInfo& run) {
    m_haveTrace = true;
    m_sinks->setTokens(run.tokens);
    m_sinks->selectToken(m_host.selection->token());  // e.g. --select, set while the run was going
    requestSinks(m_sinks->params());
}

void SinksDock::cancelRunJobs() {
    m_host.worker->cancel(jobTag("inputs"));
    m_classifier->cancel(id());
    m_sinkInputsPending = false;
}

void SinksDock::onStoredSession() {
    cancelAll();
    m_haveTrace = false;  // the panel now shows stored results, not the last run
    m_sinkInputs.reset();
}

void SinksDock::requestSinks(const SinkParams& params) {
    m_sinkParams = params;
    // A session opened without its model re-classifies from the statistics it stored.
    const std::shared_ptr<const SinkInputs> inputs = m_haveTrace ? m_sinkInputs : m_sinks->inputs();
    QElapsedTimer clock;
    clock.start();
    if (inputs && !needsRecompute(*inputs, params)) {
        // Pure and ~0.1 ms at 1K tokens: on its own thread, so it never queues behind model work.
        m_classifier->post(id(), this, [this, inputs, params, clock](JobContext&) -> InspectorWorker::GuiApply {
            auto out = std::make_shared<SinkJobResult>(classifySinksJob(inputs, params));
            return [this, out, clock] { showSinks(*out, clock); };
        });
        return;
    }
    if (!m_haveTrace) {
        if (m_sinks->hasResult())
            m_sinks->setStatus(tr("\u26a0 These parameters need new sink statistics (%1): open the model to recompute")
                                   .arg(inputs ? tr("another minimum query position or BOS candidate")
                                               : tr("the session stored none")));
        return;
    }
    // Edits while statistics for this minimum query position are on their way wait for them.
    if (m_sinkInputsPending && m_pendingMinQuery == params.minQueryPos) return;
    m_classifier->cancel(id());
    m_sinkInputs.reset();
    m_sinkInputsPending = true;
    m_pendingMinQuery = params.minQueryPos;
    m_sinks->setStatus(tr("Computing sink statistics\u2026"));
    // Statistics and classification in one job on the model's worker (new runs, min-query edits);
    // re-classification alone runs on the classifier thread, where drags coalesce under id().
    m_host.worker->post(
        jobTag("inputs"), this,
        [this, params, clock](JobContext& ctx) -> InspectorWorker::GuiApply {
            auto out = std::make_shared<SinkJobResult>(sinksOnWorker(ctx, params));
            return [this, out, params, clock] {
                m_sinkInputs = out->inputs;
                m_sinkInputsPending = false;
                showSinks(*out, clock);
                // Parameters edited while the statistics were computed: classify with the newest.
                if (!sameParams(params, m_sinkParams)) requestSinks(m_sinkParams);
            };
        },
        InspectorWorker::Priority::Preemptible);
}

void SinksDock::showSinks(const SinkJobResult& out, const QElapsedTimer& clock) {
    m_sinks->setResult(*out.result);
    m_sinks->setInputs(out.inputs);
    const double toScreen = double(clock.nsecsElapsed()) / 1e6;
    const QString classified = tr("classified in %1 ms on its thread, %2 ms from edit to screen")
                                   .arg(out.classifyMs, 0, 'f', 2)
                                   .arg(toScreen, 0, 'f', 1);
    m_sinks->setStatus(out.inputsMs < 0
                           ? tr("Re-%1").arg(classified)
                           : tr("Sink statistics in %1 ms; %2").arg(out.inputsMs, 0, 'f', 0).arg(classified));
    qCInfo(lcTiming, "sinks: T=%lld statistics %.1f ms, classify %.3f ms, round trip %.2f ms",
           static_cast<long long>(out.result->T), out.inputsMs, out.classifyMs, toScreen);
    emit panelShown(id());
}

void SinksDock::onJobFailed(const QString& tag, const QString& message, bool cancelled) {
    if (cancelled || (tag != jobTag("inputs") && tag != id())) return;
    if (tag == jobTag("inputs")) m_sinkInputsPending = false;
    m_sinks->setStatus(tr("\u26a0 Sinks: %1").arg(message));
}

}  // namespace attnscope::app
