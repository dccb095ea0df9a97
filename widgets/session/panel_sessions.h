// Registration of the built-in panels (one function per panel, each in its own file), and
// the helpers they share.
#pragma once
#include <memory>

#include <QStringList>

#include "attnscope/views.h"
#include "session/panel_registry.h"

class QWidget;

namespace attnscope::widgets {

void registerAttentionPanel(PanelRegistry& registry);  // attention_session.cpp
void registerHeadGridPanel(PanelRegistry& registry);   // heads_session.cpp
void registerSinksPanel(PanelRegistry& registry);      // sinks_session.cpp
void registerWeibullPanel(PanelRegistry& registry);    // weibull_session.cpp
void registerKvPanel(PanelRegistry& registry);         // kv_session.cpp
void registerQuantPanel(PanelRegistry& registry);      // quant_session.cpp
void registerEntropyPanel(PanelRegistry& registry);    // entropy_session.cpp
void registerA3Panel(PanelRegistry& registry);         // a3_session.cpp

// The session's prompt as the panels show it.
attnscope::TokenStrip sessionTokens(const Session& session);
// The panel's section, or Error(BadInput) "the session holds no <title> results".
const SessionSection& requireSection(const Session& session, const char* panel, const char* title);
// A plot that lives inside a panel, taken out to stand alone: the (hidden) panel becomes its
// child, so the panel's state (labels, describers) stays valid for as long as the plot.
std::unique_ptr<QCustomPlot> detachPlot(QWidget* panel, QCustomPlot* plot);
// A title row above everything else of an exported figure.
void addFigureTitle(QCustomPlot* plot, const QString& title);

}  // namespace attnscope::widgets
