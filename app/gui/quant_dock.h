// The quantization error lab dock (issue 8): the QuantPanel and its jobs on the model's
// worker. A run's prompt calibrates R for every linear layer; one ReconLab per matrix then
// gives the panel every method's error at every rank (the rank slider never comes back
// here). KV-cache and score quantization re-run the prompt once with values kept. Work
// starts when the dock is visible, shows progress and can be cancelled. Torch-free header.
#pragma once
#include <memory>
#include <vector>

#include <QString>
#include <QStringList>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "models/quant_views.h"
#include "panel_dock.h"

class QMainWindow;

namespace attnscope::widgets {
class QuantPanel;
}

namespace attnscope::app {

class QuantDock : public PanelDock {
    Q_OBJECT
public:
    QuantDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);
    ~QuantDock() override;

    widgets::QuantPanel* quantPanel() const { return m_panel; }

    void onModelLoaded() override;
    void onRunStarted() override;
    void onRunDone(const PromptInfo& run) override;
    void cancelRunJobs() override;
    // A stored session: the panel keeps it; edits must not recompute on the previous run.
    void onStoredSession() override { onRunStarted(); }

private:
    void startIfWanted();  // the computations the visible dock lacks
    void requestLabs(const WeightQuantParams& params);
    void requestEvaluation(const WeightQuantParams& params, ReconMethod method, int rank);
    void requestKv(const widgets::KvPanelParams& params);
    void requestHeadMap(int layer, int head, const widgets::KvPanelParams& params);
    void onJobFailed(const QString& tag, const QString& message, bool cancelled);
    void reportShown();

    InspectorWorker* m_worker = nullptr;
    SelectionModel* m_selection = nullptr;
    widgets::QuantPanel* m_panel = nullptr;
    QStringList m_tokens;
    bool m_haveRun = false;
    bool m_labsDone = false, m_kvDone = false, m_headDone = false;
    bool m_shown = false;
};

}  // namespace attnscope::app
