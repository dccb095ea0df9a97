#include "analysis_docks.h"

#include <QDockWidget>
#include <QLoggingCategory>
#include <QMainWindow>
#include <QMenu>

#include "heads_dock.h"
#include "kv_dock.h"
#include "panel_table.h"
#include "panels/interventions_panel.h"
#include "panels/sinks_panel.h"
#include "quant_dock.h"
#include "selection_model.h"
#include "timing.h"
#include "sinks_dock.h"
#include "weibull_dock.h"

Q_LOGGING_CATEGORY(lcTiming, "attnscope.timing", QtWarningMsg)

namespace attnscope::app {
namespace {

constexpr double kMainDockShare = 0.62;  // of the window width, for showPanel

}  // namespace

AnalysisDocks::AnalysisDocks(QMainWindow* window, InspectorWorker* worker, SelectionModel* selection)
    : QObject(window), m_window(window), m_selection(selection) {
    const PanelHost host{window, worker, selection};
    QDockWidget* lastRight = nullptr;
    QDockWidget* firstRight = nullptr;
    for (const PanelEntry& e : panelTable()) {
        if (!e.create) continue;  // the central panel
        PanelDock* d = e.create(host, this);
        m_docks.push_back(d);
        connect(d, &PanelDock::panelShown, this, &AnalysisDocks::panelShown);
        if (e.place == PanelEntry::Place::Left) {
            if (auto* model = window->findChild<QDockWidget*>(QStringLiteral("modelDock")))
                window->splitDockWidget(model, d->dock(), Qt::Vertical);
            else
                window->addDockWidget(Qt::LeftDockWidgetArea, d->dock());
            continue;
        }
        if (lastRight) window->tabifyDockWidget(lastRight, d->dock());
        else window->addDockWidget(Qt::RightDockWidgetArea, d->dock());
        if (!firstRight) firstRight = d->dock();
        lastRight = d->dock();
    }
    if (firstRight) firstRight->raise();
    // Attention sinks from the sinks panel's latest result mark the KV keep maps.
    if (KvDock* kv = kvDock())
        connect(this, &AnalysisDocks::panelShown, kv, [this, kv](const QString& name) {
            if (SinksDock* sinks = find<SinksDock>(); sinks && name == sinks->id()) kv->followSinks(sinks->sinksPanel());
        });
    // The sinks panel's causal test runs in the interventions panel.
    if (widgets::SinksPanel* sinks = sinksPanel())
        if (PanelDock* intervene = dock(QStringLiteral("intervene")))
            if (auto* panel = qobject_cast<widgets::InterventionsPanel*>(intervene->panel()))
                connect(sinks, &widgets::SinksPanel::sinkTestRequested, this, [this, panel](qint64 token) {
                    showPanel(QStringLiteral("intervene"));
                    panel->runSinkTest(token);
                });
}

QStringList AnalysisDocks::panelNames() { return panelIds(); }

PanelDock* AnalysisDocks::dock(const QString& id) const {
    for (PanelDock* d : m_docks)
        if (d->id() == id) return d;
    return nullptr;
}

bool AnalysisDocks::showPanel(const QString& name) {
    PanelDock* d = dock(name);
    if (!d) return false;
    QDockWidget* dw = d->dock();
    dw->show();
    dw->raise();
    if (m_window->dockWidgetArea(dw) == Qt::LeftDockWidgetArea)
        m_window->resizeDocks({dw}, {int(m_window->height() * 0.45)}, Qt::Vertical);
    else
        m_window->resizeDocks({dw}, {int(m_window->width() * kMainDockShare)}, Qt::Horizontal);
    return true;
}

void AnalysisDocks::addViewActions(QMenu* menu) {
    for (PanelDock* d : m_docks) menu->addAction(d->dock()->toggleViewAction());
}

void AnalysisDocks::onModelLoaded() {
    for (PanelDock* d : m_docks) d->onModelLoaded();
}

void AnalysisDocks::onRunStarted() {
    for (PanelDock* d : m_docks) d->onRunStarted();
    m_selection->setToken(-1);
}

void AnalysisDocks::onRunDone(const PromptInfo& run) {
    for (PanelDock* d : m_docks) d->onRunDone(run);
}

void AnalysisDocks::onStoredSession() {
    for (PanelDock* d : m_docks) d->onStoredSession();
}

void AnalysisDocks::cancelRunJobs() {
    for (PanelDock* d : m_docks) d->cancelRunJobs();
}

void AnalysisDocks::cancelAll() {
    for (PanelDock* d : m_docks) d->cancelAll();
}

widgets::SinksPanel* AnalysisDocks::sinksPanel() const {
    auto* d = find<SinksDock>();
    return d ? d->sinksPanel() : nullptr;
}

widgets::WeibullPanel* AnalysisDocks::weibullPanel() const {
    auto* d = find<WeibullDock>();
    return d ? d->weibullPanel() : nullptr;
}

widgets::HeadGridPanel* AnalysisDocks::headGridPanel() const {
    auto* d = find<HeadsDock>();
    return d ? d->gridPanel() : nullptr;
}

KvDock* AnalysisDocks::kvDock() const { return find<KvDock>(); }
QuantDock* AnalysisDocks::quantDock() const { return find<QuantDock>(); }

}  // namespace attnscope::app
