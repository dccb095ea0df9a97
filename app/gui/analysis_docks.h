// The docked analysis panels (sinks, Weibull, head grid): builds their docks, keeps them
// on the shared selection, and runs their analyses on the worker under their own tags, so
// parameter drags coalesce and a new run or model supersedes everything pending.
#pragma once
#include <memory>

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>

#include "attnscope/analyses/sinks.h"
#include "attnscope/analyses/weibull.h"
#include "attnscope/model.h"
#include "models/head_scores.h"

class QDockWidget;
class QMainWindow;
class QMenu;

namespace attnscope::widgets {
class HeadGridPanel;
class SinksPanel;
class WeibullPanel;
}  // namespace attnscope::widgets

namespace attnscope::app {

class InspectorWorker;
class KvDock;
class QuantDock;
class SelectionModel;
struct RunResult;
struct SinkJobResult;

class AnalysisDocks : public QObject {
    Q_OBJECT
public:
    AnalysisDocks(QMainWindow* window, InspectorWorker* worker, SelectionModel* selection);

    static QStringList panelNames();  // "sinks", "weibull", "heads", "kv", "quant"
    // Raises the panel's dock and gives it most of the window (screenshots, --panel).
    bool showPanel(const QString& name);
    void addViewActions(QMenu* menu);

    void onModelLoaded();
    void onRunStarted();
    void onRunDone(const RunResult& run);
    void cancelAll();
    // A run was started: the jobs computed from the last trace (sink statistics, head scores,
    // KV inputs, quantization labs) would hold up the worker; the panels keep what they show.
    void cancelRunJobs();
    // A session is opened: the run is gone; the sinks panel re-classifies from stored statistics.
    void onStoredSession();

    widgets::SinksPanel* sinksPanel() const { return m_sinks; }
    widgets::WeibullPanel* weibullPanel() const { return m_weibull; }
    widgets::HeadGridPanel* headGridPanel() const { return m_heads; }
    KvDock* kvDock() const { return m_kv; }
    QuantDock* quantDock() const { return m_quant; }

signals:
    void panelShown(const QString& name);  // a panel just received data

private:
    void requestSinks(const SinkParams& params);
    void showSinks(const SinkJobResult& out, const QElapsedTimer& clock);
    void requestHeadScores(int layer);  // then the next layer, until all are scored
    void requestWeibull(const WeibullParams& params);
    void requestWeibullPlot(const QString& name);
    void onJobFailed(const QString& tag, const QString& message, bool cancelled);
    QDockWidget* addDock(const QString& title, const QString& name, QWidget* panel);

    QMainWindow* m_window = nullptr;
    InspectorWorker* m_worker = nullptr;      // owns the model and trace
    InspectorWorker* m_classifier = nullptr;  // re-classifies sinks: never waits behind model work
    SelectionModel* m_selection = nullptr;
    widgets::SinksPanel* m_sinks = nullptr;
    widgets::WeibullPanel* m_weibull = nullptr;
    widgets::HeadGridPanel* m_heads = nullptr;
    KvDock* m_kv = nullptr;  // the KV-cache eviction dock and its jobs (kv_dock.h)
    QuantDock* m_quant = nullptr;  // the quantization error lab (quant_dock.h)
    QDockWidget* m_sinksDock = nullptr;
    QDockWidget* m_weibullDock = nullptr;
    QDockWidget* m_headsDock = nullptr;
    bool m_haveTrace = false;
    widgets::HeadScoreTable m_headScores;  // filled layer by layer
    QElapsedTimer m_headClock;
    std::shared_ptr<const SinkInputs> m_sinkInputs;  // statistics of the current trace
    bool m_sinkInputsPending = false;                // a statistics job is queued or running ...
    int64_t m_pendingMinQuery = -1;                  // ... for this minimum query position
    SinkParams m_sinkParams;                         // the newest parameters asked for
};

}  // namespace attnscope::app
