#include "weibull_dock.h"

#include <QDockWidget>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QMainWindow>

#include "analysis_jobs.h"
#include "inspector_worker.h"
#include "timing.h"
#include "panels/weibull_panel.h"
#include "selection_model.h"
#include "weibull_series_jobs.h"

namespace attnscope::app {

WeibullDock::WeibullDock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent) : PanelDock(host, panelId, parent) {
    m_weibull = new widgets::WeibullPanel(host.window);
    setPanel(m_weibull, title);
    connect(m_weibull, &widgets::WeibullPanel::layerSelected, host.selection, &SelectionModel::setLayer);
    connect(host.selection, &SelectionModel::layerHeadChanged, m_weibull,
            [this](int layer, int) { m_weibull->followLayer(layer); });
    connect(m_weibull, &widgets::WeibullPanel::paramsChanged, this, &WeibullDock::requestWeibull);
    connect(m_weibull, &widgets::WeibullPanel::matrixSelected, this, &WeibullDock::requestWeibullPlot);
    new WeibullSeriesJobs(host.worker, m_weibull, this);  // the checkpoint-series tab
    connect(host.worker, &InspectorWorker::jobFailed, this,
            [this](const QString& tag, const QString& message, bool cancelled) {
                if (!cancelled && (tag == id() || tag == jobTag("plot")))
                    m_weibull->setStatus(tr("\u26a0 Weibull: %1").arg(message));
            });
}

void WeibullDock::onModelLoaded() { requestWeibull(m_weibull->params()); }

void WeibullDock::cancelAll() {
    for (const QString& tag : {id(), jobTag("plot")}) m_host.worker->cancel(tag);
}

void WeibullDock::requestWeibull(const WeibullParams& params) {
    m_weibull->setStatus(tr("Fitting every weight matrix\u2026"));
    QElapsedTimer clock;
    clock.start();
    m_host.worker->post(
        id(), this,
        [this, params, clock](JobContext& ctx) -> InspectorWorker::GuiApply {
            auto fits = std::make_shared<std::vector<WeibullMatrixFit>>(weibullFitsOnWorker(ctx, params));
            const qint64 fitMs = clock.elapsed();
            return [this, fits, fitMs] {
                m_weibull->setFits(*fits);
                m_weibull->setStatus(tr("Fitted %1 matrices in %2 ms").arg(fits->size()).arg(fitMs));
                qCInfo(lcTiming, "weibull: %zu matrices in %lld ms", fits->size(), static_cast<long long>(fitMs));
                emit panelShown(id());
            };
        },
        InspectorWorker::Priority::Preemptible);
}

void WeibullDock::requestWeibullPlot(const QString& name) {
    const WeibullParams params = m_weibull->params();
    const std::string tensor = name.toStdString();
    m_host.worker->post(
        jobTag("plot"), this,
        [this, params, tensor](JobContext& ctx) -> InspectorWorker::GuiApply {
            auto plot = std::make_shared<WeibullPlot>(weibullPlotOnWorker(ctx, tensor, params));
            return [this, plot, tensor] { m_weibull->setMatrixPlot(tensor, *plot); };
        },
        InspectorWorker::Priority::Preemptible);
}

}  // namespace attnscope::app
