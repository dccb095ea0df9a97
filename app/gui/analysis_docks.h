// The docked analysis panels of the panel table (panel_table.h): builds their docks, lays them
// out, and broadcasts model and run events to them. Nothing here names a panel id: the
// accessors tests and --screenshot options use find a dock by its type.
#pragma once
#include <vector>

#include <QObject>

#include <QStringList>

#include "panel_dock.h"  // with PanelHost's forward declarations (QMainWindow, PromptInfo, the worker, ...)

class QMenu;

namespace attnscope::widgets {
class HeadGridPanel;
class SinksPanel;
class WeibullPanel;
}  // namespace attnscope::widgets

namespace attnscope::app {

class KvDock;
class QuantDock;

class AnalysisDocks : public QObject {
    Q_OBJECT
public:
    AnalysisDocks(QMainWindow* window, InspectorWorker* worker, SelectionModel* selection);

    static QStringList panelNames();  // the panel table's ids
    // Raises the panel's dock and gives it most of the window (screenshots, --panel).
    bool showPanel(const QString& name);
    void addViewActions(QMenu* menu);
    const std::vector<PanelDock*>& docks() const { return m_docks; }
    PanelDock* dock(const QString& id) const;

    void onModelLoaded();
    void onRunStarted();
    void onRunDone(const PromptInfo& run);
    void cancelAll();
    // A run was started: the jobs computed from the last trace would hold up the worker; the
    // panels keep what they show.
    void cancelRunJobs();
    // A session is opened: the run is gone; panels re-classify from stored results.
    void onStoredSession();

    widgets::SinksPanel* sinksPanel() const;
    widgets::WeibullPanel* weibullPanel() const;
    widgets::HeadGridPanel* headGridPanel() const;
    KvDock* kvDock() const;
    QuantDock* quantDock() const;

    // The dock of a type (the table's dock types are one panel each).
    template <class Dock>
    Dock* find() const {
        for (PanelDock* d : m_docks)
            if (auto* typed = qobject_cast<Dock*>(d)) return typed;
        return nullptr;
    }

signals:
    void panelShown(const QString& name);  // a panel just received data

private:
    QMainWindow* m_window = nullptr;
    SelectionModel* m_selection = nullptr;
    std::vector<PanelDock*> m_docks;  // panel table order
};

}  // namespace attnscope::app
