#include "dock_scroll.h"
#include "panel_dock.h"

#include <QDockWidget>
#include <QMainWindow>

namespace attnscope::app {

void PanelDock::setPanel(QWidget* panel, const QString& title) {
    m_panel = panel;
    m_dock = new QDockWidget(title, m_host.window);
    m_dock->setObjectName(m_id + QStringLiteral("Dock"));
    m_dock->setWidget(scrollableDockContent(panel));
}

}  // namespace attnscope::app
