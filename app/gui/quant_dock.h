// The quantization error lab dock (issue 8): the QuantPanel and its jobs on the model's
// worker. A run's prompt calibrates R for every linear layer; one ReconLab per matrix then
// gives the panel every method's error at every rank (the rank slider never comes back
// here). KV-cache and score quantization re-run the prompt once with values kept. Work
// starts when the dock is visible, shows progress and can be cancelled. Torch-free header.
#pragma once
#include <memory>
#include <vector>

#include <QObject>
#include <QString>
#include <QStringList>

#include "attnscope/analyses/quant.h"
#include "models/quant_views.h"

class QDockWidget;
class QMainWindow;

namespace attnscope::widgets {
class QuantPanel;
}

namespace attnscope::app {

class InspectorWorker;
class SelectionModel;
struct QuantWorkerCache;
struct RunResult;

class QuantDock : public QObject {
    Q_OBJECT
public:
    QuantDock(QMainWindow* window, InspectorWorker* worker, SelectionModel* selection, QObject* parent);
    ~QuantDock() override;

    QDockWidget* dock() const { return m_dock; }
    widgets::QuantPanel* panel() const { return m_panel; }

    void onModelLoaded();
    void onRunStarted();
    void onRunDone(const RunResult& run);
    void cancelAll();

signals:
    void panelShown(const QString& name);  // "quant": bars, KV map and head map on screen (once per run)

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
    QDockWidget* m_dock = nullptr;
    // Calibration and the values trace of the current run; touched on the worker only.
    std::shared_ptr<QuantWorkerCache> m_cache;
    QStringList m_tokens;
    bool m_haveRun = false;
    bool m_labsDone = false, m_kvDone = false, m_headDone = false;
    bool m_shown = false;
};

}  // namespace attnscope::app
