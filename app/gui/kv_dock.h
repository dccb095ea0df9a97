// The KV-cache eviction dock (issue 6): the KvPanel, and its jobs. The expensive inputs
// (one traced run of prompt + continuation, computeKvInputs) and everything that needs the
// model (end-to-end re-runs, the model-driven decode simulation, budget sweeps) run on the
// model's worker; parameter edits (selectKv + local metrics, pure) on a thread of their own,
// so a drag never waits behind model work. Torch-free header.
#pragma once
#include <memory>
#include <vector>

#include <QElapsedTimer>
#include <QString>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "panel_dock.h"

class QMainWindow;
class QTimer;

namespace attnscope::widgets {
class KvPanel;
class SinksPanel;
}  // namespace attnscope::widgets

namespace attnscope::app {

class KvDock : public PanelDock {
    Q_OBJECT
public:
    KvDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);

    widgets::KvPanel* kvPanel() const { return m_panel; }
    // The inputs the panel's decisions were computed from (null until the first run).
    std::shared_ptr<const KvInputs> inputs() const { return m_inputs; }

    void onRunStarted() override;
    // A stored session is on screen: the panel keeps it, edits wait for the model's next run.
    void onStoredSession() override;
    void onRunDone(const PromptInfo& run) override;
    void cancelRunJobs() override;
    // Attention sinks from the sinks panel's latest result mark the keep maps.
    void followSinks(const widgets::SinksPanel* sinks);
    // --kv-sweep: once the inputs are ready, sweep the panel's policies and budgets, write
    // the sweep plot to `path`, and only then report the panel as shown.
    void exportSweepWhenReady(const QString& path);
    // --kv: "policy=h2o,budget=64,mode=decode,tab=keep|sweep|compare,pin=NAME,step=N,<param>=V",
    // applied as a user's edit. False for an unknown policy or parameter.
    bool applyOptions(const QString& spec);

private:
    void requestInputs();
    void requestLocal(const KvParams& params);
    void requestEndToEnd(const KvParams& params);
    void requestSweep(const std::vector<KvParams>& params);
    void requestCompare(const KvParams& params);
    void onJobFailed(const QString& tag, const QString& message, bool cancelled);
    void showSurvivorsOnMainStrip(const std::vector<float>& mask);
    void reportShown();  // panelShown("kv"), once

    QMainWindow* m_window = nullptr;
    InspectorWorker* m_worker = nullptr;  // owns the model and trace
    InspectorWorker* m_local = nullptr;   // parameter edits: pure, never behind model work
    SelectionModel* m_selection = nullptr;
    widgets::KvPanel* m_panel = nullptr;
    QTimer* m_e2eDelay = nullptr;  // end-to-end after an edit settles
    bool m_haveTrace = false;
    bool m_inputsPending = false;
    std::shared_ptr<const KvInputs> m_inputs;
    KvParams m_params;  // the newest parameters asked for
    QString m_sweepExport;
    bool m_shown = false;
};

}  // namespace attnscope::app
