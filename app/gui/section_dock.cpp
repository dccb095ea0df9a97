#include "section_dock.h"

#include <QDockWidget>
#include <QMainWindow>
#include <QStatusBar>

#include "attnscope/analysis_registry.h"
#include "attnscope/error.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "panel_table.h"
#include "session/panel_registry.h"

namespace attnscope::app {

SectionDock::SectionDock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent)
    : PanelDock(host, panelId, parent) {
    const widgets::PanelSessionSpec* spec = panelRegistry().session(panelId);
    if (!spec || !spec->create) fail(ErrorKind::Internal, "panel '" + panelId.toStdString() + "' has no widget factory");
    setPanel(spec->create(host.window), title);
    connect(host.worker, &InspectorWorker::jobFailed, this,
            [this](const QString& tag, const QString& message, bool cancelled) {
                if (!cancelled && tag == id())
                    m_host.window->statusBar()->showMessage(tr("\u26a0 %1: %2").arg(dock()->windowTitle(), message),
                                                            10000);
            });
}

void SectionDock::onRunDone(const PromptInfo& run) {
    const std::string analysis = id().toStdString();
    Session shown;  // what restore reads besides the section: the prompt's tokens
    shown.tokenIds = run.tokens.ids;
    shown.tokenPieces = run.tokens.pieces;
    m_host.worker->post(
        id(), this,
        [this, analysis, shown](JobContext& ctx) -> InspectorWorker::GuiApply {
            auto section = std::make_shared<SessionSection>(
                findAnalysis(analysis).compute(ctx.inspector(), Options{}, shown, ctx.job()));
            return [this, section, shown] {
                panelRegistry().session(id())->restore(panel(), shown, *section);
                emit panelShown(id());
            };
        },
        InspectorWorker::Priority::Preemptible);
}

void SectionDock::cancelRunJobs() { m_host.worker->cancel(id()); }

}  // namespace attnscope::app
