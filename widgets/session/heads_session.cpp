// The head grid in sessions and figures: per-head scores [layer, head].
#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/head_grid_panel.h"
#include "plot/matrix_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "heads";

void show(HeadGridPanel* panel, const HeadScoresSection& h, const std::string& view) {
    panel->setScores(HeadScoreTable(h));
    panel->setScoreView(view);
}

bool save(QWidget* w, SessionSection& out) {
    auto* panel = qobject_cast<HeadGridPanel*>(w);
    if (!panel || panel->scores().nLayers == 0) return false;
    HeadScores h = panel->scores();
    h.score = panel->scoreView();
    out = encodeHeadScores(h);
    return true;
}

void restore(QWidget* w, const Session&, const SessionSection& section) {
    auto* panel = qobject_cast<HeadGridPanel*>(w);
    if (!panel) return;
    const HeadScoresSection h = decodeHeadScores(section);
    show(panel, h, h.score);
}

std::unique_ptr<QCustomPlot> renderGrid(const Session& session, const FigureOptions& o) {
    const HeadScoresSection h = decodeHeadScores(requireSection(session, kPanel, "head score"));
    const std::string view = o.option(QStringLiteral("score"), QString::fromStdString(h.score)).toStdString();
    if (view != kHeadRolesView && h.indexOf(view) < 0) {
        std::string known = kHeadRolesView;
        for (const HeadDetectorInfo& i : h.infos) known += ", " + i.id;
        fail(ErrorKind::BadInput, "heads: unknown score '" + view + "' (" + known + ")");
    }
    auto* panel = new HeadGridPanel;
    show(panel, h, view);
    MatrixPlot* grid = panel->grid();
    addFigureTitle(grid, QObject::tr("Heads by %1 (%2 tokens)").arg(panel->scoreViewTitle()).arg(h.tokens));
    return detachPlot(panel, grid);
}

}  // namespace

void registerHeadGridPanel(PanelRegistry& registry) {
    registry.addSession({kPanel, QObject::tr("Head grid"), save, restore,
                         validateBy(decodeHeadScores)});
    registry.addFigure(
        {QStringLiteral("head-grid"), kPanel,
         QObject::tr(
             "every layer x head coloured by a detector's score or by its role (--opt score=roles|<detector id>)"),
         QSize(560, 520), renderGrid,
         QObject::tr("<b>Head roles</b>: one cell per layer and head. Scores: entropy of the rows; "
                     "mass on the first token (the sink of Xiao et al., <i>StreamingLLM</i>, 2024); "
                     "previous-token, duplicate-token and induction pattern scores (TransformerLens; "
                     "Olsson et al., <i>In-context Learning and Induction Heads</i>, 2022); the OV "
                     "circuit's copying score (Elhage et al., 2021); select-and-copy scores "
                     "(Tulchinskii et al., <i>Listening to the Wise Few</i>, 2024); a streaming-mask "
                     "retrieval score (after DuoAttention, 2024). Roles: the score highest relative to "
                     "its threshold.")});
}

}  // namespace attnscope::widgets
