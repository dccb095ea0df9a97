// Registration of the built-in panels (one function per panel, each in its own file), and
// the helpers they share.
#pragma once
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <QStringList>
#include <QWidget>

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
void registerVariantsPanel(PanelRegistry& registry);   // variants_session.cpp
void registerLogitLensPanel(PanelRegistry& registry);  // logit_lens_session.cpp
void registerInterventionsPanel(PanelRegistry& registry);  // interventions_session.cpp
void registerPatchingPanel(PanelRegistry& registry);       // interventions_session.cpp

// The session's prompt as the panels show it.
attnscope::TokenStrip sessionTokens(const Session& session);
// The panel's section, or Error(BadInput) "the session holds no <title> results".
const SessionSection& requireSection(const Session& session, const char* panel, const char* title);
// A plot that lives inside a panel, taken out to stand alone: the (hidden) panel becomes its
// child, so the panel's state (labels, describers) stays valid for as long as the plot.
std::unique_ptr<QCustomPlot> detachPlot(QWidget* panel, QCustomPlot* plot);
// A title row above everything else of an exported figure.
void addFigureTitle(QCustomPlot* plot, const QString& title);

// The session entry of a panel that shows one result type: saved while the panel holds one
// (encode(panel.*get())), restored through decode (which validates first; then the session's
// token pieces go to panel.*pieces when given), created by the panel's QWidget constructor.
template <class Panel, class Result>
PanelSessionSpec resultSession(const char* panel, const QString& title, SessionSection (*encode)(const Result&),
                               Result (*decode)(const SessionSection&), bool (Panel::*has)() const,
                               const Result& (Panel::*get)() const, void (Panel::*set)(const Result&),
                               void (Panel::*pieces)(const std::vector<std::string>&) = nullptr) {
    return {QString::fromLatin1(panel),
            title,
            [encode, has, get](QWidget* w, SessionSection& out) {
                auto* p = qobject_cast<Panel*>(w);
                if (!p || !(p->*has)()) return false;
                out = encode((p->*get)());
                return true;
            },
            [decode, set, pieces](QWidget* w, const Session& session, const SessionSection& section) {
                auto* p = qobject_cast<Panel*>(w);
                if (!p) return;
                const Result r = decode(section);
                if (pieces) (p->*pieces)(session.tokenPieces);
                (p->*set)(r);
            },
            [decode](const Session&, const SessionSection& section) { decode(section); },
            [](QWidget* parent) -> QWidget* { return new Panel(parent); }};
}

// Figures of one panel drawn by one render function that picks its plot by `which`.
struct PanelFigure {
    const char* name;         // "sink-map"
    int which;                // the render function's choice
    QSize size;               // default size
    const char* description;  // untranslated (QT_TR_NOOP), translated in QObject's context
    QString note;             // what it measures, with its source (rich text)
};
using PanelFigureRender = std::function<std::unique_ptr<QCustomPlot>(const Session&, const FigureOptions&, int which)>;
void addPanelFigures(PanelRegistry& registry, const char* panel, std::initializer_list<PanelFigure> figures,
                     const PanelFigureRender& render);

}  // namespace attnscope::widgets
