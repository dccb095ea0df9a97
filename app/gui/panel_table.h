// The GUI's one table of analysis panels: {id, title, dock factory, where it docks}. Docks, the
// View menu, sessions, --panel, screenshots and figure export all read it; figures come from the
// widgets' PanelRegistry by the same id and titles from core's analysis registry.
#pragma once
#include <functional>
#include <vector>

#include <QString>

#include "panel_dock.h"

namespace attnscope::app {

struct PanelEntry {
    QString id;         // core analysis id
    QString title;      // dock title
    bool left = false;  // beside the model dock (else tabbed on the right)
    std::function<PanelDock*(const PanelHost& host, QObject* parent)> create;
};

const std::vector<PanelEntry>& panelTable();
QStringList panelIds();

}  // namespace attnscope::app
