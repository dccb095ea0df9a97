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
    PanelDock(const PanelHost& host, QObject* parent) : QObject(parent), m_host(host) {}

    virtual QString id() const = 0;  // the analysis id (sessions, figures, --panel)
    virtual QDockWidget* dock() const { return m_dock; }
    virtual QWidget* panel() const { return m_panel; }  // what sessions save and restore

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
    void setPanel(QWidget* panel, const QString& title, const QString& id);

    PanelHost m_host;

private:
    QDockWidget* m_dock = nullptr;
    QWidget* m_panel = nullptr;
};

}  // namespace attnscope::app
