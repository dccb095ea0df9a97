#include "a3_dock.h"

#include <memory>

#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "main_window.h"
#include "panels/a3_panel.h"

namespace attnscope::app {
namespace {

// The dock's request with the panel's profile choice (--a3-apply ... pairs) on top.
Options withProfile(Options request, const QStringList& list) {
    for (qsizetype i = 0; i + 1 < list.size(); i += 2) request.set(list[i].toStdString(), list[i + 1].toStdString());
    return request;
}

}  // namespace

A3Dock::A3Dock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent)
    : SectionDock(host, panelId, title, parent) {
    auto* panel = qobject_cast<widgets::A3Panel*>(this->panel());
    if (!panel) fail(ErrorKind::Internal, "the a3 dock needs the A^3 panel");
    connect(panel, &widgets::A3Panel::endToEndRequested, this, [this, panel](const QStringList& list) {
        const Options request = withProfile(options(), list);
        m_host.worker->post(
            jobTag("e2e"), this,
            [request, panel](JobContext& ctx) -> InspectorWorker::GuiApply {
                Inspector& in = ctx.inspector();
                auto e = std::make_shared<A3EndToEnd>(in.a3EndToEnd(request, 16, ctx.job()));
                const QString full = QString::fromStdString(in.decode(e->continuationFull));
                const QString reduced = QString::fromStdString(in.decode(e->continuation));
                return [panel, e, full, reduced] { panel->setEndToEnd(*e, full, reduced); };
            },
            InspectorWorker::Priority::Preemptible);
    });
    // Apply / restore change the open model's weights: then every panel runs the prompt again.
    auto swap = [this, panel](const QStringList& list, bool apply) {
        const Options request = withProfile(options(), list);
        m_host.worker->post(jobTag("apply"), this,
                            [request, apply, panel, this](JobContext& ctx) -> InspectorWorker::GuiApply {
                                Inspector& in = ctx.inspector();
                                if (apply) in.a3Apply(request, ctx.job());
                                else in.a3Restore();
                                const QString name = QString::fromStdString(in.a3Applied());
                                return [this, panel, name] {
                                    panel->setApplied(name);
                                    if (auto* window = qobject_cast<MainWindow*>(m_host.window)) window->runPrompt();
                                };
                            });
    };
    connect(panel, &widgets::A3Panel::applyRequested, this, [swap](const QStringList& list) { swap(list, true); });
    connect(panel, &widgets::A3Panel::restoreRequested, this, [swap] { swap({}, false); });
    connect(host.worker, &InspectorWorker::jobFailed, this, [this, panel](const QString& tag, const QString& message, bool cancelled) {
        if (tag == jobTag("e2e")) panel->setEndToEndStatus(cancelled ? tr("Cancelled") : message);
        if (tag == jobTag("apply")) panel->setApplied(cancelled ? QString() : tr("failed: %1").arg(message));
    });
}

void A3Dock::onModelLoaded() {
    SectionDock::onModelLoaded();
    if (auto* p = qobject_cast<widgets::A3Panel*>(panel())) p->setApplied(QString());
}

void A3Dock::cancelRunJobs() {
    SectionDock::cancelRunJobs();
    m_host.worker->cancel(jobTag("e2e"));  // an apply or restore runs to its end: it changes the model
}

}  // namespace attnscope::app
