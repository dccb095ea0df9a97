#include "a3_dock.h"

#include <memory>

#include "attnscope/analyses/a3.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "panels/a3_panel.h"

namespace attnscope::app {

A3Dock::A3Dock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent)
    : SectionDock(host, panelId, title, parent) {
    auto* panel = qobject_cast<widgets::A3Panel*>(this->panel());
    if (!panel) fail(ErrorKind::Internal, "the a3 dock needs the A^3 panel");
    connect(panel, &widgets::A3Panel::endToEndRequested, this, [this, panel](const QStringList& list) {
        Options profileOptions;
        for (qsizetype i = 0; i + 1 < list.size(); i += 2) profileOptions.set(list[i].toStdString(), list[i + 1].toStdString());
        A3Profile profile;
        try {
            profile = a3ProfileFrom(panel->result(), profileOptions);
        } catch (const Error& e) {
            panel->setEndToEndStatus(QString::fromStdString(e.what()));
            return;
        }
        const Options request = options();
        m_host.worker->post(
            jobTag("e2e"), this,
            [request, profile, panel](JobContext& ctx) -> InspectorWorker::GuiApply {
                Inspector& in = ctx.inspector();
                auto e = std::make_shared<A3EndToEnd>(in.a3EndToEnd(a3RequestFrom(request), profile, 16, ctx.job()));
                const QString full = QString::fromStdString(in.decode(e->continuationFull));
                const QString reduced = QString::fromStdString(in.decode(e->continuation));
                return [panel, e, full, reduced] { panel->setEndToEnd(*e, full, reduced); };
            },
            InspectorWorker::Priority::Preemptible);
    });
    connect(host.worker, &InspectorWorker::jobFailed, this, [this, panel](const QString& tag, const QString& message, bool cancelled) {
        if (tag == jobTag("e2e")) panel->setEndToEndStatus(cancelled ? tr("Cancelled") : message);
    });
}

void A3Dock::cancelRunJobs() {
    SectionDock::cancelRunJobs();
    m_host.worker->cancel(jobTag("e2e"));
}

}  // namespace attnscope::app
