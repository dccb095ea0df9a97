#include "heads_dock.h"

#include <QDockWidget>
#include <QLoggingCategory>
#include <QMainWindow>

#include "analysis_jobs.h"
#include "inspector_jobs.h"
#include "inspector_worker.h"
#include "timing.h"
#include "panels/head_grid_panel.h"
#include "selection_model.h"

namespace attnscope::app {

HeadsDock::HeadsDock(const PanelHost& host, const QString& panelId, const QString& title, QObject* parent) : PanelDock(host, panelId, parent) {
    m_heads = new widgets::HeadGridPanel(host.window);
    setPanel(m_heads, title);
    connect(m_heads, &widgets::HeadGridPanel::headSelected, host.selection, &SelectionModel::setLayerHead);
    connect(host.selection, &SelectionModel::layerHeadChanged, m_heads, &widgets::HeadGridPanel::setCurrent);
    connect(host.worker, &InspectorWorker::jobFailed, this,
            [this](const QString& tag, const QString& message, bool cancelled) {
                if (!cancelled && tag == id()) m_heads->setStatus(tr("\u26a0 %1").arg(message));
            });
}

void HeadsDock::onRunStarted() {
    cancelRunJobs();
    m_heads->clear();
}

void HeadsDock::onRunDone(const PromptInfo& run) {
    m_headScores = {};  // shaped by the first layer's detectors
    m_runLayers = run.nLayers;
    m_runHeads = run.nHeads;
    m_runTokens = run.length;
    m_headClock.start();
    if (run.nLayers > 0) requestHeadScores(0);
}

void HeadsDock::cancelRunJobs() { m_host.worker->cancel(id()); }

void HeadsDock::requestHeadScores(int layer) {
    m_host.worker->post(
        id(), this,
        [this, layer](JobContext& ctx) -> InspectorWorker::GuiApply {
            auto scores = std::make_shared<HeadLayerJob>(headScoresOnWorker(ctx, layer));
            return [this, scores] {
                if (m_headScores.nLayers == 0) {
                    m_headScores =
                        widgets::HeadScoreTable(emptyHeadScores(m_runLayers, m_runHeads, scores->scores.infos));
                    m_headScores.tokens = m_headScores.sampledRows = m_runTokens;  // every row (head_scores.h)
                }
                const int H = m_headScores.nHeads, l = scores->scores.layer;
                mergeHeadLayer(m_headScores, scores->scores);
                for (int h = 0; h < H && h < int(scores->thumbnails.size()); ++h)
                    m_headScores.thumbnails[size_t(l * H + h)] = scores->thumbnails[size_t(h)];
                m_heads->setScores(m_headScores);
                m_heads->setCurrent(m_host.selection->layer(), m_host.selection->head());
                if (l + 1 < m_headScores.nLayers) {
                    m_heads->setStatus(tr("Scoring heads\u2026 layer %1 of %2").arg(l + 2).arg(m_headScores.nLayers));
                    requestHeadScores(l + 1);
                    return;
                }
                qCInfo(lcTiming, "head scores: %lld ms", static_cast<long long>(m_headClock.elapsed()));
                emit panelShown(id());
            };
        },
        InspectorWorker::Priority::Preemptible);
}

}  // namespace attnscope::app
