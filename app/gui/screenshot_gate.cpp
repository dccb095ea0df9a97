#include "screenshot_gate.h"

#include "main_window.h"
#include "panels/attention_maps_panel.h"
#include "plot/attention_heatmap.h"

namespace attnscope::app {

ScreenshotGate::ScreenshotGate(MainWindow* window, const QString& panel, int panelShows, bool zoomed)
    : QObject(window), m_window(window) {
    const bool heads = panel == QLatin1String("heads");
    m_waiting = 1 /*map*/ + (heads ? 0 : 1) /*head grid*/ + (panel.isEmpty() ? 0 : panelShows) + (zoomed ? 1 : 0);
    connect(window, &MainWindow::viewShown, this, [this, zoomed] {
        // A zoom applied by an earlier connection to this signal: an exact map, or a view
        // of everything, gets no finer tile.
        const auto* map = m_window->attentionPanel()->heatmap();
        const auto v = map->visibleExtent(), e = map->extent();
        if (zoomed && (map->isExact() || (v.q0 == e.q0 && v.q1 == e.q1 && v.k0 == e.k0 && v.k1 == e.k1))) arrived();
        arrived();
    }, Qt::SingleShotConnection);
    if (zoomed) connect(window, &MainWindow::tileShown, this, &ScreenshotGate::arrived, Qt::SingleShotConnection);
    connect(window, &MainWindow::panelShown, this, [this, panel, heads](const QString& name) {
        if (name == panel || (!heads && name == QLatin1String("heads"))) arrived();
    });
}

void ScreenshotGate::arrived() {
    if (m_waiting <= 0) return;
    if (--m_waiting == 0) emit opened();
}

}  // namespace attnscope::app
