#include "panel_table.h"

#include "a3_dock.h"
#include "attnscope/analysis_registry.h"
#include "attnscope/error.h"
#include "heads_dock.h"
#include "kv_dock.h"
#include "quant_dock.h"
#include "section_dock.h"
#include "session/panel_registry.h"
#include "session/panel_sessions.h"
#include "sinks_dock.h"
#include "variants_dock.h"
#include "weibull_dock.h"

namespace attnscope::app {
namespace {

using Place = PanelEntry::Place;
using Register = void (*)(widgets::PanelRegistry&);

QString titleOf(const char* id) { return QString::fromStdString(findAnalysis(id).title); }

// A panel with a dock of its own type (its controls and jobs).
template <class Dock>
PanelEntry entry(const char* id, Register registerPanel, Place place = Place::Right) {
    const QString key = QString::fromLatin1(id), title = titleOf(id);
    return {key, title, place, registerPanel,
            [key, title](const PanelHost& host, QObject* parent) -> PanelDock* {
                return new Dock(host, key, title, parent);
            }};
}

// A panel that needs no controls of its own (section_dock.h).
PanelEntry sectionEntry(const char* id, Register registerPanel) { return entry<SectionDock>(id, registerPanel); }

// The central panel: the main window builds it.
PanelEntry centralEntry(const char* id, Register registerPanel) {
    return {QString::fromLatin1(id), titleOf(id), Place::Central, registerPanel, {}};
}

}  // namespace

// One line per panel; the docks in the View menu's order.
const std::vector<PanelEntry>& panelTable() {
    static const std::vector<PanelEntry> table = {
        centralEntry("attention", widgets::registerAttentionPanel),
        entry<HeadsDock>("heads", widgets::registerHeadGridPanel, Place::Left),
        entry<SinksDock>("sinks", widgets::registerSinksPanel),
        entry<WeibullDock>("weibull", widgets::registerWeibullPanel),
        entry<KvDock>("kv", widgets::registerKvPanel),
        entry<QuantDock>("quant", widgets::registerQuantPanel),
        sectionEntry("entropy", widgets::registerEntropyPanel),
        entry<A3Dock>("a3", widgets::registerA3Panel),
        entry<VariantsDock>("variants", widgets::registerVariantsPanel),
        sectionEntry("logit_lens", widgets::registerLogitLensPanel),
        sectionEntry("intervene", widgets::registerInterventionsPanel),
        sectionEntry("patch", widgets::registerPatchingPanel),
    };
    return table;
}

QStringList panelIds() {
    QStringList ids;
    for (const PanelEntry& e : panelTable())
        if (e.place != Place::Central) ids << e.id;
    return ids;
}

const PanelEntry& centralPanel() {
    for (const PanelEntry& e : panelTable())
        if (e.place == Place::Central) return e;
    fail(ErrorKind::Internal, "the panel table has no central panel");
}

const widgets::PanelRegistry& panelRegistry() {
    static const widgets::PanelRegistry registry = [] {
        widgets::PanelRegistry r;
        for (const PanelEntry& e : panelTable()) e.registerPanel(r);
        return r;
    }();
    return registry;
}

}  // namespace attnscope::app
