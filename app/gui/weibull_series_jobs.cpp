#include "weibull_series_jobs.h"

#include <filesystem>
#include <memory>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "attnscope/error.h"
#include "inspector_worker.h"
#include "panels/weibull_panel.h"
#include "panels/weibull_series_view.h"

namespace attnscope::app {
namespace {

const QString kTag = QStringLiteral("weibull-series");

}  // namespace

WeibullSeriesJobs::WeibullSeriesJobs(InspectorWorker* worker, widgets::WeibullPanel* panel, QObject* parent)
    : QObject(parent), m_worker(worker), m_panel(panel) {
    connect(panel->seriesView(), &widgets::WeibullSeriesView::requested, this, &WeibullSeriesJobs::request);
    // Protocol and trim apply to the series too, once one is shown.
    connect(panel, &widgets::WeibullPanel::paramsChanged, this, [this] {
        if (!m_panel->seriesView()->series().empty()) m_panel->seriesView()->request(m_panel->seriesView()->source());
    });
    connect(worker, &InspectorWorker::jobProgress, this, [this](const QString& tag, double f) {
        if (tag == kTag) m_panel->seriesView()->setStatus(tr("Fitting every checkpoint\u2026 %1%").arg(int(f * 100)));
    });
    connect(worker, &InspectorWorker::jobFailed, this, [this](const QString& tag, const QString& message, bool cancelled) {
        if (tag == kTag) m_panel->seriesView()->setStatus(cancelled ? tr("Cancelled") : tr("\u26a0 %1").arg(message));
    });
}

void WeibullSeriesJobs::request(const QString& directory) {
    const WeibullParams params = m_panel->params();
    const std::string dir = directory.toStdString();
    m_worker->post(kTag, this, [this, params, dir](JobContext& ctx) -> InspectorWorker::GuiApply {
        auto series = std::make_shared<std::vector<WeibullSeriesPoint>>(ctx.inspector().weibullSeries(dir, params, ctx.job()));
        std::filesystem::path root = dir.empty() ? ctx.inspector().info().path : dir;
        if (!std::filesystem::is_directory(root)) root = root.parent_path();  // a .safetensors file: its directory
        const QString source = QString::fromStdString(root.filename().string());
        return [this, series, source] { m_panel->seriesView()->setSeries(*series, source); };
    }, InspectorWorker::Priority::Preemptible);
}

void WeibullSeriesJobs::cancel() { m_worker->cancel(kTag); }

}  // namespace attnscope::app
