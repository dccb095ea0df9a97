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
    if (panel()->metaObject()->indexOfSignal("optionsChanged(QStringList)") >= 0)
        connect(panel(), SIGNAL(optionsChanged(QStringList)), this, SLOT(setOptions(QStringList)));
    connect(dock(), &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible) startIfWanted();
    });
    connect(host.worker, &InspectorWorker::jobFailed, this,
            [this](const QString& tag, const QString& message, bool cancelled) {
                if (!cancelled && tag == id())
                    m_host.window->statusBar()->showMessage(tr("\u26a0 %1: %2").arg(dock()->windowTitle(), message),
                                                            10000);
            });
    connect(host.worker, &InspectorWorker::jobProgress, this, [this](const QString& tag, double f) {
        if (tag == id())
            m_host.window->statusBar()->showMessage(tr("%1: computing\u2026 %2%").arg(dock()->windowTitle()).arg(int(f * 100)),
                                                    2000);
    });
}

void SectionDock::onModelLoaded() {
    cancelRunJobs();
    m_haveRun = false;
}

void SectionDock::onRunStarted() {
    cancelRunJobs();
    m_haveRun = false;
}

void SectionDock::onStoredSession() {
    cancelRunJobs();
    m_haveRun = false;  // the panel shows the stored section until the next run
}

void SectionDock::onRunDone(const PromptInfo& run) {
    m_shown = {};
    m_shown.tokenIds = run.tokens.ids;
    m_shown.tokenPieces = run.tokens.pieces;
    m_haveRun = true;
    m_done = false;
    startIfWanted();
}

void SectionDock::setOptions(const QStringList& options) {
    m_options = options;
    m_done = false;
    cancelRunJobs();
    startIfWanted();
}

Options SectionDock::options() const {
    Options options;
    for (qsizetype i = 0; i + 1 < m_options.size(); i += 2) options.set(m_options[i].toStdString(), m_options[i + 1].toStdString());
    return options;
}

void SectionDock::startIfWanted() {
    if (!m_haveRun || m_done || !dock()->isVisible() || m_host.worker->isPending(id())) return;
    // Panels that need the user's input first (a second prompt, what to ablate) say so.
    if (panel()->property("computeOnRequest").toBool() && m_options.isEmpty()) return;
    const Options options = this->options();
    const std::string analysis = id().toStdString();
    const Session shown = m_shown;
    m_host.worker->post(
        id(), this,
        [this, analysis, shown, options](JobContext& ctx) -> InspectorWorker::GuiApply {
            auto section = std::make_shared<SessionSection>(findAnalysis(analysis).compute(ctx.inspector(), options, shown, ctx.job()));
            return [this, section, shown] {
                m_done = true;
                panelRegistry().session(id())->restore(panel(), shown, *section);
                emit panelShown(id());
            };
        },
        InspectorWorker::Priority::Preemptible);
}

void SectionDock::cancelRunJobs() { m_host.worker->cancel(id()); }

}  // namespace attnscope::app
