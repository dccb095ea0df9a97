#include "panel_table.h"

#include "attnscope/analysis_registry.h"
#include "heads_dock.h"
#include "kv_dock.h"
#include "quant_dock.h"
#include "section_dock.h"
#include "sinks_dock.h"
#include "weibull_dock.h"

namespace attnscope::app {
namespace {

template <class Dock>
PanelEntry entry(const char* id, bool left = false) {
    const QString title = QString::fromStdString(findAnalysis(id).title);
    return {QString::fromLatin1(id), title, left,
            [title](const PanelHost& host, QObject* parent) -> PanelDock* { return new Dock(host, title, parent); }};
}

// An analysis whose panel needs no controls of its own (section_dock.h).
PanelEntry sectionEntry(const char* id) {
    const QString title = QString::fromStdString(findAnalysis(id).title), key = QString::fromLatin1(id);
    return {key, title, false, [key, title](const PanelHost& host, QObject* parent) -> PanelDock* {
                return new SectionDock(host, key, title, parent);
            }};
}

}  // namespace

// One line per docked panel, in the View menu's order. The attention maps are the main
// window's central panel, not a dock.
const std::vector<PanelEntry>& panelTable() {
    static const std::vector<PanelEntry> table = {
        entry<HeadsDock>("heads", /*left=*/true),
        entry<SinksDock>("sinks"),
        entry<WeibullDock>("weibull"),
        entry<KvDock>("kv"),
        entry<QuantDock>("quant"),
        sectionEntry("entropy"),
    };
    return table;
}

QStringList panelIds() {
    QStringList ids;
    for (const PanelEntry& e : panelTable()) ids << e.id;
    return ids;
}

}  // namespace attnscope::app
