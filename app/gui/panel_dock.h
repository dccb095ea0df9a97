// One analysis panel in its dock, with the jobs that fill it (RenderDoc's ICaptureViewer): the
// window broadcasts model and run events to every PanelDock of the panel table (panel_table.h).
// Torch-free header.
#pragma once
#include <QObject>
#include <QString>

class QDockWidget;
class QMainWindow;
class QWidget;

namespace attnscope {
struct PromptInfo;  // inspector.h: what a prompt run tells the front ends
}  // namespace attnscope

namespace attnscope::app {

class InspectorWorker;
class SelectionModel;

// What a dock is built from.
struct PanelHost {
    QMainWindow* window = nullptr;
    InspectorWorker* worker = nullptr;  // owns the Inspector (model, traces, analyses)
    SelectionModel* selection = nullptr;
};

class PanelDock : public QObject {
    Q_OBJECT
public:
    // `id` is the panel table's (panel_table.h): the analysis id of sessions, figures and --panel.
    PanelDock(const PanelHost& host, const QString& id, QObject* parent) : QObject(parent), m_host(host), m_id(id) {}

    QString id() const { return m_id; }
    // The worker tag of one of its jobs: "<id>-<job>" (a newer job of a tag replaces the queued one).
    QString jobTag(const char* job) const { return m_id + QLatin1Char('-') + QLatin1String(job); }
    QDockWidget* dock() const { return m_dock; }
    QWidget* panel() const { return m_panel; }  // what sessions save and restore

    virtual void onModelLoaded() {}
    virtual void onRunStarted() {}  // a run finished starting: clear what belongs to the last
    virtual void onRunDone(const PromptInfo& run) { (void)run; }
    virtual void cancelRunJobs() {}  // jobs on the last trace: a new run needs the worker
    virtual void cancelAll() { cancelRunJobs(); }
    virtual void onStoredSession() { cancelAll(); }  // the panel shows stored results; edits wait for a run

signals:
    void panelShown(const QString& id);  // its results are on screen (screenshots wait for this)

protected:
    // Puts `panel` in a scrollable dock titled `title` with the object name `<id>Dock`; dock()
    // and panel() then return them.
    void setPanel(QWidget* panel, const QString& title);

    PanelHost m_host;

private:
    QString m_id;
    QDockWidget* m_dock = nullptr;
    QWidget* m_panel = nullptr;
};

}  // namespace attnscope::app
