#include "variants_dock.h"

#include <memory>

#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "panels/variants_panel.h"
#include "selection_model.h"

namespace attnscope::app {

VariantsDock::VariantsDock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent)
    : SectionDock(host, panelId, title, parent) {
    auto* panel = qobject_cast<widgets::VariantsPanel*>(this->panel());
    if (!panel) fail(ErrorKind::Internal, "the variants dock needs the variants panel");
    panel->setCatalog(variantInfos());
    connect(panel, &widgets::VariantsPanel::pairRequested, this,
            [this, panel](int layer, int head, const QString& name, const QStringList& params) {
                VariantChoice choice{name.toStdString(), {}};
                std::vector<std::string> assignments;
                for (const QString& p : params) assignments.push_back(p.toStdString());
                try {
                    choice.params = variantParams(variantInfo(choice.name), assignments);
                } catch (const Error& e) {
                    panel->setStatus(QString::fromStdString(e.what()));
                    return;
                }
                m_host.worker->post(
                    jobTag("pair"), this,
                    [layer, head, choice, panel,
                     tile = panel->requestedTile()](JobContext& ctx) -> InspectorWorker::GuiApply {
                        auto pair = std::make_shared<VariantHeadPair>(
                            ctx.inspector().variantHead(layer, head, choice, tile, ctx.job()));
                        return [panel, pair] { panel->setPair(*pair); };
                    },
                    InspectorWorker::Priority::Urgent);
            });
    // The explorer's layer and head: the panel follows them (its own pickers stay free).
    connect(host.selection, &SelectionModel::layerHeadChanged, panel,
            [panel](int layer, int head) { panel->setLayerHead(layer, head); });
    connect(host.worker, &InspectorWorker::jobFailed, this,
            [this, panel](const QString& tag, const QString& message, bool cancelled) {
                if (tag == jobTag("pair") && !cancelled) panel->setStatus(message);
            });
}

void VariantsDock::onRunDone(const PromptInfo& run) {
    if (auto* panel = qobject_cast<widgets::VariantsPanel*>(this->panel())) {
        panel->setShape(run.nLayers, run.nHeads);
        panel->setLayerHead(m_host.selection->layer(), m_host.selection->head());
        QStringList tokens;
        for (const std::string& p : run.tokens.pieces) tokens << QString::fromStdString(p);
        panel->setTokenLabels(tokens);
    }
    SectionDock::onRunDone(run);
}

void VariantsDock::cancelRunJobs() {
    SectionDock::cancelRunJobs();
    m_host.worker->cancel(jobTag("pair"));
}

}  // namespace attnscope::app
