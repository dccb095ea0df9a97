#include "dock_scroll.h"
#include "analysis_docks.h"

#include <QDockWidget>
#include <QLoggingCategory>
#include <QMainWindow>
#include <QMenu>

#include "analysis_jobs.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "kv_dock.h"
#include "quant_dock.h"
#include "panels/head_grid_panel.h"
#include "panels/sinks_panel.h"
#include "panels/weibull_panel.h"
#include "selection_model.h"
#include "weibull_series_jobs.h"

// Timings of the analyses, off by default: QT_LOGGING_RULES="attnscope.timing.info=true".
Q_LOGGING_CATEGORY(lcTiming, "attnscope.timing", QtWarningMsg)

namespace attnscope::app {
namespace {

// Statistics and classification in one job on the model's worker: new runs, min-query edits.
const QString kSinkInputs = QStringLiteral("sinks-inputs");
// Re-classification alone on the classifier thread; drags coalesce under this tag.
const QString kSinks = QStringLiteral("sinks");
const QString kHeads = QStringLiteral("heads");
const QString kWeibull = QStringLiteral("weibull");
const QString kWeibullPlot = QStringLiteral("weibull-plot");
// The parameters the panel edits (the others keep their defaults).
bool sameParams(const SinkParams& a, const SinkParams& b) {
    return a.epsilon == b.epsilon && a.cosThreshold == b.cosThreshold && a.minQueryPos == b.minQueryPos &&
           a.rule == b.rule && a.sinkClipper == b.sinkClipper && a.source == b.source;
}

constexpr double kMainDockShare = 0.62;  // of the window width, for showPanel

}  // namespace

AnalysisDocks::AnalysisDocks(QMainWindow* window, InspectorWorker* worker, SelectionModel* selection)
    : QObject(window), m_window(window), m_worker(worker), m_selection(selection) {
    m_classifier = new InspectorWorker(this);
    m_sinks = new widgets::SinksPanel(window);
    m_weibull = new widgets::WeibullPanel(window);
    m_heads = new widgets::HeadGridPanel(window);
    m_headsDock = addDock(tr("Heads"), QStringLiteral("headsDock"), m_heads);
    m_sinksDock = addDock(tr("Attention Sinks"), QStringLiteral("sinksDock"), m_sinks);
    m_weibullDock = addDock(tr("Weight Weibull Fits"), QStringLiteral("weibullDock"), m_weibull);
    if (auto* model = window->findChild<QDockWidget*>(QStringLiteral("modelDock")))
        window->splitDockWidget(model, m_headsDock, Qt::Vertical);
    else
        window->addDockWidget(Qt::LeftDockWidgetArea, m_headsDock);
    window->addDockWidget(Qt::RightDockWidgetArea, m_sinksDock);
    window->tabifyDockWidget(m_sinksDock, m_weibullDock);
    m_kv = new KvDock(window, worker, selection, this);
    window->tabifyDockWidget(m_weibullDock, m_kv->dock());
    connect(m_kv, &KvDock::panelShown, this, &AnalysisDocks::panelShown);
    m_quant = new QuantDock(window, worker, selection, this);
    window->tabifyDockWidget(m_kv->dock(), m_quant->dock());
    connect(m_quant, &QuantDock::panelShown, this, &AnalysisDocks::panelShown);
    connect(this, &AnalysisDocks::panelShown, m_kv, [this](const QString& name) {
        if (name == QLatin1String("sinks")) m_kv->followSinks(m_sinks);
    });
    m_sinksDock->raise();

    // Panels write to the selection; the selection drives the panels.
    connect(m_heads, &widgets::HeadGridPanel::headSelected, selection, &SelectionModel::setLayerHead);
    connect(m_weibull, &widgets::WeibullPanel::layerSelected, selection, &SelectionModel::setLayer);
    connect(m_sinks, &widgets::SinksPanel::tokenSelected, selection, [selection](qint64 t) { selection->setToken(int(t)); });
    connect(m_sinks, &widgets::SinksPanel::tokensSelected, selection, &SelectionModel::setTokens);
    connect(selection, &SelectionModel::layerHeadChanged, this, [this](int layer, int head) {
        m_heads->setCurrent(layer, head);
        m_weibull->followLayer(layer);
    });
    connect(selection, &SelectionModel::tokenChanged, m_sinks, [this](int t) { m_sinks->selectToken(t); });
    connect(selection, &SelectionModel::tokensChanged, m_sinks, &widgets::SinksPanel::selectTokens);

    connect(m_sinks, &widgets::SinksPanel::paramsChanged, this, &AnalysisDocks::requestSinks);
    connect(m_weibull, &widgets::WeibullPanel::paramsChanged, this, &AnalysisDocks::requestWeibull);
    connect(m_weibull, &widgets::WeibullPanel::matrixSelected, this, &AnalysisDocks::requestWeibullPlot);
    new WeibullSeriesJobs(worker, m_weibull, this);  // the checkpoint-series tab
    connect(worker, &InspectorWorker::jobFailed, this, &AnalysisDocks::onJobFailed);
    connect(m_classifier, &InspectorWorker::jobFailed, this, &AnalysisDocks::onJobFailed);
    connect(worker, &InspectorWorker::jobProgress, this, [this](const QString& tag, double f) {
        if (tag == kSinkInputs) m_sinks->setStatus(tr("Computing sink statistics\u2026 %1%").arg(int(f * 100)));
    });
}

QDockWidget* AnalysisDocks::addDock(const QString& title, const QString& name, QWidget* panel) {
    auto* dock = new QDockWidget(title, m_window);
    dock->setObjectName(name);
    dock->setWidget(scrollableDockContent(panel));
    return dock;
}

QStringList AnalysisDocks::panelNames() {
    return {QStringLiteral("sinks"), QStringLiteral("weibull"), QStringLiteral("heads"), QStringLiteral("kv"),
            QStringLiteral("quant")};
}

bool AnalysisDocks::showPanel(const QString& name) {
    QDockWidget* dock = name == QLatin1String("sinks")     ? m_sinksDock
                        : name == QLatin1String("weibull") ? m_weibullDock
                        : name == QLatin1String("heads")   ? m_headsDock
                        : name == QLatin1String("kv")      ? m_kv->dock()
                        : name == QLatin1String("quant")   ? m_quant->dock()
                                                           : nullptr;
    if (!dock) return false;
    dock->show();
    dock->raise();
    if (dock != m_headsDock)
        m_window->resizeDocks({dock}, {int(m_window->width() * kMainDockShare)}, Qt::Horizontal);
    else
        m_window->resizeDocks({dock}, {int(m_window->height() * 0.45)}, Qt::Vertical);
    return true;
}

void AnalysisDocks::addViewActions(QMenu* menu) {
    for (QDockWidget* dock : {m_headsDock, m_sinksDock, m_weibullDock, m_kv->dock(), m_quant->dock()})
        menu->addAction(dock->toggleViewAction());
}

void AnalysisDocks::onModelLoaded() {
    requestWeibull(m_weibull->params());
    m_quant->onModelLoaded();
}

void AnalysisDocks::onRunStarted() {
    for (const QString& tag : {kSinkInputs, kHeads}) m_worker->cancel(tag);
    m_classifier->cancel(kSinks);
    m_haveTrace = false;
    m_sinkInputs.reset();
    m_sinkInputsPending = false;
    m_sinks->clear();
    m_heads->clear();
    m_kv->onRunStarted();
    m_quant->onRunStarted();
    m_selection->setToken(-1);
}

void AnalysisDocks::onRunDone(const RunResult& run) {
    m_haveTrace = true;
    m_sinks->setTokens(run.tokens);
    m_sinks->selectToken(m_selection->token());  // e.g. --select, set while the run was going
    requestSinks(m_sinks->params());
    m_headScores = {};
    m_headScores.resize(run.nLayers, run.nHeads);
    m_headScores.tokens = run.length;
    m_headClock.start();
    if (run.nLayers > 0) requestHeadScores(0);
    m_kv->onRunDone(run);
    m_quant->onRunDone(run);
}

void AnalysisDocks::onStoredSession() {
    cancelAll();
    m_haveTrace = false;  // the panels now show stored results, not the last run
    m_sinkInputs.reset();
    m_kv->onStoredSession();  // KV edits must not run on the previous run's inputs
    m_quant->onRunStarted();  // nor quantization recomputations; neither clears its panel
}

void AnalysisDocks::cancelRunJobs() {
    for (const QString& tag : {kSinkInputs, kHeads}) m_worker->cancel(tag);
    m_classifier->cancel(kSinks);
    m_sinkInputsPending = false;
    m_kv->cancelAll();
    m_quant->cancelAll();
}

void AnalysisDocks::cancelAll() {
    for (const QString& tag : {kWeibull, kWeibullPlot}) m_worker->cancel(tag);
    cancelRunJobs();
}

void AnalysisDocks::requestSinks(const SinkParams& params) {
    m_sinkParams = params;
    // A session opened without its model re-classifies from the statistics it stored.
    const std::shared_ptr<const SinkInputs> inputs = m_haveTrace ? m_sinkInputs : m_sinks->inputs();
    QElapsedTimer clock;
    clock.start();
    if (inputs && !needsRecompute(*inputs, params)) {
        // Pure and ~0.1 ms at 1K tokens: on its own thread, so it never queues behind model work.
        m_classifier->post(kSinks, this, [this, inputs, params, clock](JobContext&) -> InspectorWorker::GuiApply {
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
    m_classifier->cancel(kSinks);
    m_sinkInputs.reset();
    m_sinkInputsPending = true;
    m_pendingMinQuery = params.minQueryPos;
    m_sinks->setStatus(tr("Computing sink statistics\u2026"));
    m_worker->post(kSinkInputs, this, [this, params, clock](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto out = std::make_shared<SinkJobResult>(sinksOnWorker(ctx, params));
        return [this, out, params, clock] {
            m_sinkInputs = out->inputs;
            m_sinkInputsPending = false;
            showSinks(*out, clock);
            // Parameters edited while the statistics were computed: classify with the newest.
            if (!sameParams(params, m_sinkParams)) requestSinks(m_sinkParams);
        };
    }, InspectorWorker::Priority::Preemptible);
}

void AnalysisDocks::showSinks(const SinkJobResult& out, const QElapsedTimer& clock) {
    m_sinks->setResult(*out.result);
    m_sinks->setInputs(out.inputs);
    const double toScreen = double(clock.nsecsElapsed()) / 1e6;
    const QString classified = tr("classified in %1 ms on its thread, %2 ms from edit to screen")
                                   .arg(out.classifyMs, 0, 'f', 2).arg(toScreen, 0, 'f', 1);
    m_sinks->setStatus(out.inputsMs < 0 ? tr("Re-%1").arg(classified)
                                        : tr("Sink statistics in %1 ms; %2").arg(out.inputsMs, 0, 'f', 0).arg(classified));
    qCInfo(lcTiming, "sinks: T=%lld statistics %.1f ms, classify %.3f ms, round trip %.2f ms",
           static_cast<long long>(out.result->T), out.inputsMs, out.classifyMs, toScreen);
    emit panelShown(QStringLiteral("sinks"));
}

void AnalysisDocks::requestHeadScores(int layer) {
    m_worker->post(kHeads, this, [this, layer](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto scores = std::make_shared<HeadLayerScores>(headScoresOnWorker(ctx, layer));
        return [this, scores] {
            const int H = m_headScores.nHeads, l = scores->layer;
            for (widgets::HeadScoreKind kind : widgets::kAllHeadScores) {
                const std::vector<float>& from = kind == widgets::HeadScoreKind::Entropy      ? scores->entropy
                                                 : kind == widgets::HeadScoreKind::FirstToken ? scores->firstToken
                                                 : kind == widgets::HeadScoreKind::PreviousToken ? scores->previousToken
                                                                                                 : scores->diagonal;
                std::copy(from.begin(), from.end(), m_headScores.values(kind).begin() + std::ptrdiff_t(l * H));
            }
            for (int h = 0; h < H && h < int(scores->thumbnails.size()); ++h)
                m_headScores.thumbnails[size_t(l * H + h)] = scores->thumbnails[size_t(h)];
            m_headScores.sampledRows = scores->sampledRows;
            m_heads->setScores(m_headScores);
            m_heads->setCurrent(m_selection->layer(), m_selection->head());
            if (l + 1 < m_headScores.nLayers) {
                m_heads->setStatus(tr("Scoring heads\u2026 layer %1 of %2").arg(l + 2).arg(m_headScores.nLayers));
                requestHeadScores(l + 1);
                return;
            }
            qCInfo(lcTiming, "head scores: %lld ms", static_cast<long long>(m_headClock.elapsed()));
            emit panelShown(QStringLiteral("heads"));
        };
    }, InspectorWorker::Priority::Preemptible);
}

void AnalysisDocks::requestWeibull(const WeibullParams& params) {
    m_weibull->setStatus(tr("Fitting every weight matrix\u2026"));
    QElapsedTimer clock;
    clock.start();
    m_worker->post(kWeibull, this, [this, params, clock](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto fits = std::make_shared<std::vector<WeibullMatrixFit>>(weibullFitsOnWorker(ctx, params));
        const qint64 fitMs = clock.elapsed();
        return [this, fits, fitMs] {
            m_weibull->setFits(*fits);
            m_weibull->setStatus(tr("Fitted %1 matrices in %2 ms").arg(fits->size()).arg(fitMs));
            qCInfo(lcTiming, "weibull: %zu matrices in %lld ms", fits->size(), static_cast<long long>(fitMs));
            emit panelShown(QStringLiteral("weibull"));
        };
    }, InspectorWorker::Priority::Preemptible);
}

void AnalysisDocks::requestWeibullPlot(const QString& name) {
    const WeibullParams params = m_weibull->params();
    const std::string tensor = name.toStdString();
    m_worker->post(kWeibullPlot, this, [this, params, tensor](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto plot = std::make_shared<WeibullPlot>(weibullPlotOnWorker(ctx, tensor, params));
        return [this, plot, tensor] { m_weibull->setMatrixPlot(tensor, *plot); };
    }, InspectorWorker::Priority::Preemptible);
}

void AnalysisDocks::onJobFailed(const QString& tag, const QString& message, bool cancelled) {
    if (cancelled) return;
    if (tag == kSinkInputs || tag == kSinks) {
        if (tag == kSinkInputs) m_sinkInputsPending = false;
        m_sinks->setStatus(tr("\u26a0 Sinks: %1").arg(message));
    } else if (tag == kHeads) {
        m_heads->setStatus(tr("\u26a0 %1").arg(message));
    } else if (tag == kWeibull || tag == kWeibullPlot) {
        m_weibull->setStatus(tr("\u26a0 Weibull: %1").arg(message));
    }
}

}  // namespace attnscope::app
