// The registry of AttnScope's panels for sessions and figures (docs/session-format.md). The
// app fills one from its panel table (app/gui/panel_table.h), where each panel registers,
// by its own function (panel_sessions.h):
//   - its figures: a name and a render function that builds a QCustomPlot from the
//     session's stored results (its SessionSection) - the GUI's "Export figures" and the
//     CLI's `export` both call it, so both draw exactly the same thing;
//   - its session section: save (live panel widget -> params JSON + named tensors) and
//     restore (stored section -> live panel widget, no model needed).
// Self-registering statics are avoided on purpose: static libraries drop them.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <QSize>
#include <QString>
#include <QStringList>

#include "attnscope/session.h"

class QCustomPlot;
class QWidget;

namespace attnscope::widgets {

enum class FigureStyle { Screen, Light, Print, Presentation };  // Screen: the widget palette as is;
// Presentation: teaching mode (large type, thick lines)

// What a figure shows beyond its stored data. Unset values fall back to the session's
// view state (view.layer/head/token) and the figure's default size.
struct FigureOptions {
    int layer = -1;
    int head = -2;          // -1 is "mean of heads", so -2 means "unset"
    int64_t token = -1;
    QSize size;             // logical pixels (PNG pixels = size * dpi / 96)
    int dpi = 150;
    FigureStyle style = FigureStyle::Light;
    std::map<QString, QString> extra;  // panel-specific (--opt key=value in the CLI)

    QString option(const QString& key, const QString& fallback = {}) const;
};

struct FigureSpec {
    QString name;         // stable, kebab-case: "attention-map", "sink-levels"
    QString panel;        // owning panel id: "attention", "sinks", ...
    QString description;  // one line, for --list-figures and the export dialog
    QSize defaultSize{800, 560};
    // Builds the figure from the session. Throws attnscope::Error(BadInput) with a clear
    // message when the session lacks the panel's results or an option is out of range.
    std::function<std::unique_ptr<QCustomPlot>(const Session&, const FigureOptions&)> render;
    // What it measures, the formula and the paper (rich text): the tooltip and the side
    // note of teaching mode.
    QString note;
};

struct PanelSessionSpec {
    QString panel;  // section id in the file ([A-Za-z0-9_.-]+)
    QString title;  // human name ("Attention sinks")
    // Live panel -> section. Return false when the panel holds nothing worth saving.
    std::function<bool(QWidget* panel, SessionSection& out)> save;
    // Section -> live panel (the panel redraws from stored results). Throws Error(BadInput)
    // for sections it cannot use; the panel must be left unchanged then.
    std::function<void(QWidget* panel, const Session& session, const SessionSection& section)> restore;
    // Optional: throws Error(BadInput) when restore would fail, touching nothing (opening a
    // session checks every section before any panel changes).
    std::function<void(const Session& session, const SessionSection& section)> validate;
    // Optional: a new, empty panel. Panels with it and a core analysis of the same id get a
    // dock of their own with no app code (app/gui/section_dock.h).
    std::function<QWidget*(QWidget* parent)> create;
};

class PanelRegistry {
public:
    void addFigure(FigureSpec spec);         // replaces one of the same name
    void addSession(PanelSessionSpec spec);  // replaces one of the same panel id

    const FigureSpec* figure(const QString& name) const;
    const PanelSessionSpec* session(const QString& panel) const;
    QStringList figureNames() const;                          // registration order
    QStringList figureNames(const QString& panel) const;      // of one panel
    QStringList sessionPanels() const;                        // registration order
    const std::vector<FigureSpec>& figures() const { return m_figures; }

private:
    std::vector<FigureSpec> m_figures;
    std::vector<PanelSessionSpec> m_sessions;
};

// Renders a registered figure and writes it by suffix (.png .svg .pdf .csv). Throws
// attnscope::Error (unknown name, missing results, unwritable path).
void exportFigure(const PanelRegistry& registry, const Session& session, const QString& name,
                  const FigureOptions& options, const QString& path);

}  // namespace attnscope::widgets
