#include "section_dock.h"

#include <QDockWidget>
#include <QMainWindow>
#include <QStatusBar>

#include "attnscope/analysis_registry.h"
#include "attnscope/error.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "session/panel_registry.h"

namespace attnscope::app {

SectionDock::SectionDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent)
    : PanelDock(host, parent), m_id(id) {
    const widgets::PanelSessionSpec* spec = widgets::PanelRegistry::instance().session(id);
    if (!spec || !spec->create) fail(ErrorKind::Internal, "panel '" + id.toStdString() + "' has no widget factory");
    setPanel(spec->create(host.window), title, id);
    connect(host.worker, &InspectorWorker::jobFailed, this,
            [this](const QString& tag, const QString& message, bool cancelled) {
                if (!cancelled && tag == m_id)
                    m_host.window->statusBar()->showMessage(tr("\u26a0 %1: %2").arg(dock()->windowTitle(), message),
                                                            10000);
            });
}

void SectionDock::onRunDone(const PromptInfo& run) {
    const std::string id = m_id.toStdString();
    Session shown;  // what restore reads besides the section: the prompt's tokens
    shown.tokenIds = run.tokens.ids;
    shown.tokenPieces = run.tokens.pieces;
    m_host.worker->post(
        m_id, this,
        [this, id, shown](JobContext& ctx) -> InspectorWorker::GuiApply {
            auto section = std::make_shared<SessionSection>(
                findAnalysis(id).compute(ctx.inspector(), Options{}, shown, ctx.job()));
            return [this, section, shown] {
                widgets::PanelRegistry::instance().session(m_id)->restore(panel(), shown, *section);
                emit panelShown(m_id);
            };
        },
        InspectorWorker::Priority::Preemptible);
}

void SectionDock::cancelRunJobs() { m_host.worker->cancel(m_id); }

}  // namespace attnscope::app
