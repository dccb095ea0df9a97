#include "kv_dock.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include <QDockWidget>
#include <QLoggingCategory>
#include <QMainWindow>
#include <QTimer>

#include "attnscope/error.h"
#include "attnscope/tokenizer.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "timing.h"
#include "main_window.h"
#include "models/sink_views.h"
#include "panels/attention_maps_panel.h"
#include "panels/kv_panel.h"
#include "panels/sinks_panel.h"
#include "plot/kv_sweep_plot.h"
#include "plot/plot_menu.h"
#include "selection_model.h"
#include "token_strip.h"

namespace attnscope::app {
namespace {

constexpr int kEndToEndDelayMs = 300;  // a drag re-runs the model once it pauses

// ---- jobs (worker threads): each one Inspector call ----

struct InputsJob {
    std::shared_ptr<const KvInputs> inputs;
    TokenStrip tokens;  // prompt + continuation, for the map's labels
    double ms = 0;
    QString note;       // how the continuation was chosen
};

InputsJob inputsOnWorker(JobContext& ctx, const std::vector<KvParams>& params, int continuation, bool greedy) {
    const auto start = std::chrono::steady_clock::now();
    KvContinuation c;
    c.tokens = continuation;
    c.greedy = greedy;
    const KvPrepared prepared = ctx.inspector().prepareKv(c, params, ctx.job());
    InputsJob out;
    out.inputs = prepared.inputs;
    out.tokens = ctx.inspector().tokenStrip(prepared.ids);
    out.note = QString::fromStdString(prepared.note);
    out.ms = msSince(start);
    return out;
}

struct LocalJob {
    KvOutcome outcome;
    double ms = 0;
};

// Pure: any thread (decode: traced q/k fixed; the model-driven simulation is the end-to-end job's).
LocalJob localJob(const KvInputs& inputs, const KvParams& params) {
    const auto start = std::chrono::steady_clock::now();
    LocalJob out{evaluateKvLocal(inputs, params), 0};
    out.ms = msSince(start);
    return out;
}

struct EndToEndJob {
    KvOutcome outcome;  // decode mode: the model-driven selection too
    double ms = 0;
};

EndToEndJob endToEndOnWorker(JobContext& ctx, const KvInputs& inputs, const KvParams& params) {
    const auto start = std::chrono::steady_clock::now();
    EndToEndJob out{ctx.inspector().evaluateKv(inputs, params, ctx.job()), 0};
    out.ms = msSince(start);
    return out;
}

}  // namespace

KvDock::KvDock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent)
    : PanelDock(host, panelId, parent), m_window(host.window), m_worker(host.worker), m_selection(host.selection) {
    QMainWindow* window = host.window;
    InspectorWorker* worker = host.worker;
    SelectionModel* selection = host.selection;
    m_local = new InspectorWorker(this);
    m_panel = new widgets::KvPanel(window);
    m_panel->setPolicies(kvPolicies());
    m_params = m_panel->params();
    setPanel(m_panel, title);
    m_e2eDelay = new QTimer(this);
    m_e2eDelay->setSingleShot(true);
    m_e2eDelay->setInterval(kEndToEndDelayMs);
    connect(m_e2eDelay, &QTimer::timeout, this, [this] { requestEndToEnd(m_params); });

    connect(m_panel, &widgets::KvPanel::paramsChanged, this, &KvDock::requestLocal);
    connect(m_panel, &widgets::KvPanel::continuationChanged, this, [this] {
        m_inputs.reset();
        requestInputs();
    });
    connect(m_panel, &widgets::KvPanel::endToEndRequested, this, &KvDock::requestEndToEnd);
    connect(m_panel, &widgets::KvPanel::cancelEndToEnd, this, [this] {
        m_e2eDelay->stop();
        m_worker->cancel(jobTag("e2e"));
        m_panel->setEndToEndBusy(false);
        m_panel->setStatus(tr("End-to-end run cancelled"));
    });
    connect(m_panel, &widgets::KvPanel::sweepRequested, this, &KvDock::requestSweep);
    connect(m_panel, &widgets::KvPanel::cancelSweep, this, [this] {
        m_worker->cancel(jobTag("sweep"));
        m_panel->setSweepBusy(false);
        m_panel->setStatus(tr("Sweep cancelled"));
    });
    connect(m_panel, &widgets::KvPanel::compareRequested, this, &KvDock::requestCompare);
    connect(m_panel, &widgets::KvPanel::layerHeadSelected, selection, &SelectionModel::setLayerHead);
    connect(selection, &SelectionModel::layerHeadChanged, m_panel, &widgets::KvPanel::selectLayerHead);
    connect(m_panel, &widgets::KvPanel::survivorsChanged, this, &KvDock::showSurvivorsOnMainStrip);
    connect(worker, &InspectorWorker::jobFailed, this, &KvDock::onJobFailed);
    connect(m_local, &InspectorWorker::jobFailed, this, &KvDock::onJobFailed);
    connect(worker, &InspectorWorker::jobProgress, this, [this](const QString& tag, double f) {
        if (tag == jobTag("inputs")) m_panel->setStatus(tr("Computing KV inputs\u2026 %1%").arg(int(f * 100)));
        else if (tag == jobTag("e2e")) m_panel->setEndToEndBusy(true, f);
        else if (tag == jobTag("sweep")) m_panel->setSweepBusy(true, f);
    });
}

void KvDock::followSinks(const widgets::SinksPanel* sinks) {
    if (!sinks->hasResult()) return;
    m_panel->setSinkPositions(sinkMarks(sinks->result()));
}

void KvDock::onRunStarted() {
    cancelRunJobs();
    m_haveTrace = false;
    m_inputs.reset();
    m_panel->clear();
}

void KvDock::onStoredSession() {
    cancelRunJobs();
    m_haveTrace = false;
    m_inputs.reset();
}

void KvDock::onRunDone(const PromptInfo& run) {
    m_haveTrace = true;
    m_panel->setTokens(run.tokens);
    m_panel->selectLayerHead(m_selection->layer(), m_selection->head());
    requestInputs();
}

void KvDock::cancelRunJobs() {
    m_e2eDelay->stop();
    for (const QString& tag : {jobTag("inputs"), jobTag("e2e"), jobTag("sweep")}) m_worker->cancel(tag);
    for (const QString& tag : {jobTag("local"), jobTag("compare")}) m_local->cancel(tag);
    m_inputsPending = false;
}

void KvDock::requestInputs() {
    if (!m_haveTrace) return;
    m_worker->cancel(jobTag("e2e"));
    m_local->cancel(jobTag("local"));
    m_inputsPending = true;
    m_panel->setStatus(tr("Computing KV inputs\u2026"));
    const std::optional<KvParams> compare = m_panel->compareParams();
    const std::vector<KvParams> cover = kvCoverage(m_params, compare ? &*compare : nullptr);
    const int continuation = m_panel->continuationTokens();
    const bool greedy = m_panel->greedyContinuation();
    m_worker->post(jobTag("inputs"), this, [this, cover, continuation, greedy](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto out = std::make_shared<InputsJob>(inputsOnWorker(ctx, cover, continuation, greedy));
        return [this, out] {
            m_inputs = out->inputs;
            m_inputsPending = false;
            m_panel->setTokens(out->tokens);
            m_panel->setStatus(tr("KV inputs in %1 ms (%2)").arg(out->ms, 0, 'f', 0).arg(out->note));
            qCInfo(lcTiming, "kv inputs: T=%lld in %.1f ms", static_cast<long long>(m_inputs->T), out->ms);
            requestLocal(m_params);
            if (m_panel->compareParams()) requestCompare(*m_panel->compareParams());
            if (!m_sweepExport.isEmpty()) requestSweep(m_panel->sweepParams());
        };
    }, InspectorWorker::Priority::Preemptible);
}

void KvDock::requestLocal(const KvParams& params) {
    m_params = params;
    if (!m_haveTrace) return;
    if (!m_inputs) {
        if (!m_inputsPending) requestInputs();  // the newest parameters are used when they arrive
        return;
    }
    if (kvNeedsRecompute(*m_inputs, params)) {
        requestInputs();
        return;
    }
    QElapsedTimer clock;
    clock.start();
    m_local->post(jobTag("local"), this, [this, inputs = m_inputs, params, clock](JobContext&) -> InspectorWorker::GuiApply {
        auto out = std::make_shared<LocalJob>(localJob(*inputs, params));
        return [this, out, clock] {
            QElapsedTimer paint;
            paint.start();
            m_panel->setSelection(out->outcome.selection, out->outcome.local);
            const double toScreen = double(clock.nsecsElapsed()) / 1e6;
            m_panel->setStatus(tr("Decision + local metrics %1 ms on their thread; %2 ms from edit to screen "
                                  "(drawing %3 ms)")
                                   .arg(out->ms, 0, 'f', 1)
                                   .arg(toScreen, 0, 'f', 1)
                                   .arg(double(paint.nsecsElapsed()) / 1e6, 0, 'f', 1));
            qCInfo(lcTiming, "kv edit: decision + metrics %.2f ms, edit to screen %.2f ms", out->ms, toScreen);
            if (m_panel->autoEndToEnd()) m_e2eDelay->start();
            else reportShown();
        };
    });
}

void KvDock::requestEndToEnd(const KvParams& params) {
    if (!m_inputs || kvNeedsRecompute(*m_inputs, params)) return;
    m_panel->setEndToEndBusy(true, 0);
    m_worker->post(jobTag("e2e"), this, [this, inputs = m_inputs, params](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto out = std::make_shared<EndToEndJob>(endToEndOnWorker(ctx, *inputs, params));
        return [this, out] {
            m_panel->setEndToEnd(out->outcome.e2e);
            if (out->outcome.selection.mode == KvMode::Decode)
                m_panel->setSelection(out->outcome.selection, out->outcome.local,
                                      tr("Decode simulated through the model in %1 ms").arg(out->ms, 0, 'f', 0));
            qCInfo(lcTiming, "kv end-to-end: %.1f ms", out->ms);
            reportShown();
        };
    }, InspectorWorker::Priority::Preemptible);
}

void KvDock::requestSweep(const std::vector<KvParams>& params) {
    if (!m_inputs || params.empty()) return;
    m_panel->setSweepBusy(true, 0);
    m_panel->setStatus(tr("Sweeping %1 policy/budget pairs\u2026").arg(params.size()));
    const int continuation = m_panel->continuationTokens();
    const bool greedy = m_panel->greedyContinuation();
    m_worker->post(jobTag("sweep"), this, [this, inputs = m_inputs, params, continuation, greedy](JobContext& ctx) -> InspectorWorker::GuiApply {
        const auto start = std::chrono::steady_clock::now();
        std::shared_ptr<const KvInputs> in = inputs;
        for (const KvParams& p : params)
            if (kvNeedsRecompute(*in, p)) {  // e.g. larger windows: inputs for the whole sweep
                std::vector<KvParams> cover = params;
                cover.push_back({p.policy, p.budget, KvMode::Prefill, {}});
                in = inputsOnWorker(ctx, cover, continuation, greedy).inputs;
                break;
            }
        auto points = std::make_shared<std::vector<KvSweepRow>>(ctx.inspector().sweepKv(*in, params, ctx.job()));
        const double ms = msSince(start);
        return [this, points, ms] {
            m_panel->setSweep(*points);
            m_panel->setStatus(tr("Swept %1 policy/budget pairs in %2 s").arg(points->size()).arg(ms / 1000, 0, 'f', 1));
            qCInfo(lcTiming, "kv sweep: %zu points in %.0f ms", points->size(), ms);
            if (m_sweepExport.isEmpty()) return;
            m_panel->showTab(1);
            if (!widgets::exportPlot(m_panel->sweepPlot(), m_sweepExport, 144, QSize(900, 560)))
                m_panel->setStatus(tr("Could not write %1").arg(m_sweepExport));
            m_sweepExport.clear();
            reportShown();
        };
    }, InspectorWorker::Priority::Preemptible);
}

void KvDock::requestCompare(const KvParams& params) {
    if (!m_inputs) return;
    if (kvNeedsRecompute(*m_inputs, params)) {
        requestInputs();  // covers the pinned B, then asks again
        return;
    }
    m_local->post(jobTag("compare"), this, [this, inputs = m_inputs, params](JobContext&) -> InspectorWorker::GuiApply {
        auto out = std::make_shared<LocalJob>(localJob(*inputs, params));
        return [this, out] { m_panel->setCompareSelection(out->outcome.selection); };
    });
}

void KvDock::exportSweepWhenReady(const QString& path) { m_sweepExport = path; }

void KvDock::reportShown() {
    if (m_shown || !m_sweepExport.isEmpty()) return;  // a requested sweep export comes first
    m_shown = true;
    emit panelShown(id());
}

bool KvDock::applyOptions(const QString& spec) {
    KvParams p = m_panel->params();
    for (const QString& item : spec.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString key = item.section(QLatin1Char('='), 0, 0).trimmed();
        const QString value = item.section(QLatin1Char('='), 1).trimmed();
        if (key == QLatin1String("policy")) {
            p.policy = value.toStdString();
            p.values.clear();
        } else if (key == QLatin1String("budget")) {
            p.budget = value.toLongLong();
        } else if (key == QLatin1String("mode")) {
            p.mode = value == QLatin1String("decode") ? KvMode::Decode : KvMode::Prefill;
        } else if (key == QLatin1String("tab")) {
            m_panel->showTab(value == QLatin1String("sweep") ? 1 : value == QLatin1String("compare") ? 2 : 0);
        } else if (key == QLatin1String("pin")) {
            m_panel->setCompareParams({value.toStdString(), p.budget, KvMode::Prefill, {}});
        } else if (key == QLatin1String("step")) {
            m_panel->setStep(value.toInt());
        } else if (!key.isEmpty()) {
            p.values[key.toStdString()] = value.toDouble();  // a policy parameter
        }
    }
    try {
        const KvPolicyInfo& info = kvPolicy(p.policy);
        for (const auto& [name, v] : p.values) {
            (void)v;
            if (std::none_of(info.params.begin(), info.params.end(), [&](const KvParamSpec& s) { return s.name == name; }))
                return false;
        }
    } catch (const Error&) {
        return false;
    }
    m_panel->setParams(p);
    emit m_panel->paramsChanged(m_panel->params());
    return true;
}

void KvDock::showSurvivorsOnMainStrip(const std::vector<float>& mask) {
    // The main strip shows survivors while this dock is on screen and no query token is
    // selected (a selected token's attention row takes the strip then).
    auto* main = qobject_cast<MainWindow*>(m_window);
    if (!main || m_selection->token() >= 0 || !dock()->isVisible() || dock()->visibleRegion().isEmpty()) return;
    widgets::TokenStrip* strip = main->attentionPanel()->tokenStrip();
    std::vector<float> shown(mask.begin(), mask.begin() + std::min<std::ptrdiff_t>(strip->count(), std::ptrdiff_t(mask.size())));
    strip->setHighlights(shown);
}

void KvDock::onJobFailed(const QString& tag, const QString& message, bool cancelled) {
    if (cancelled || !tag.startsWith(id() + QLatin1Char('-'))) return;
    if (tag == jobTag("inputs")) m_inputsPending = false;
    if (tag == jobTag("e2e")) m_panel->setEndToEndBusy(false);
    if (tag == jobTag("sweep")) m_panel->setSweepBusy(false);
    m_panel->setStatus(tr("\u26a0 KV: %1").arg(message));
}

}  // namespace attnscope::app
