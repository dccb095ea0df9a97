// The GUI's one table of analysis panels: {id, title, where it sits, dock factory, figures and
// session section}. Docks, the View menu, sessions, --panel, screenshots, the export dialog and
// `attnscope-cli export` all read it; nothing else lists panel ids. Titles come from core's
// analysis registry (the same id), figures and session sections from the widgets' per-panel
// registration functions (widgets/session/panel_sessions.h).
#pragma once
#include <functional>
#include <vector>

#include <QString>
#include <QStringList>

#include "panel_dock.h"

namespace attnscope::widgets {
class PanelRegistry;
}

namespace attnscope::app {

struct PanelEntry {
    enum class Place { Central, Left, Right };  // the main window's centre, beside the model dock, or tabbed right

    QString id;     // core analysis id
    QString title;  // dock title
    Place place = Place::Right;
    void (*registerPanel)(widgets::PanelRegistry&) = nullptr;  // its figures and session section
    // Its dock; empty for the central panel (the main window builds that one).
    std::function<PanelDock*(const PanelHost& host, QObject* parent)> create;
};

const std::vector<PanelEntry>& panelTable();
QStringList panelIds();           // the docked panels' ids, in table order
const PanelEntry& centralPanel();  // the attention maps
// Every panel's figures and session section, registered from the table on first use.
const widgets::PanelRegistry& panelRegistry();

}  // namespace attnscope::app
