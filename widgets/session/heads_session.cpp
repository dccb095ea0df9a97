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
constexpr const char* kKeys[] = {"entropy", "first_token", "previous_token", "diagonal"};  // kAllHeadScores order

HeadScoreKind kindFromKey(const std::string& key) {
    for (size_t i = 0; i < kAllHeadScores.size(); ++i)
        if (key == kKeys[i]) return kAllHeadScores[i];
    fail(ErrorKind::BadInput, "heads: unknown score '" + key + "' (entropy, first_token, previous_token, diagonal)");
}
const char* keyOf(HeadScoreKind kind) {
    for (size_t i = 0; i < kAllHeadScores.size(); ++i)
        if (kAllHeadScores[i] == kind) return kKeys[i];
    return kKeys[0];
}

void show(HeadGridPanel* panel, const HeadScoresSection& h, HeadScoreKind kind) {
    HeadScoreTable t;
    static_cast<HeadScores&>(t) = h;
    panel->setScoreKind(kind);
    panel->setScores(t);
}

bool save(QWidget* w, SessionSection& out) {
    auto* panel = qobject_cast<HeadGridPanel*>(w);
    if (!panel || panel->scores().nLayers == 0) return false;
    const HeadScoreTable& t = panel->scores();
    HeadScores h = t;
    h.score = keyOf(panel->scoreKind());
    out = encodeHeadScores(h);
    return true;
}

void restore(QWidget* w, const Session&, const SessionSection& section) {
    auto* panel = qobject_cast<HeadGridPanel*>(w);
    if (!panel) return;
    const HeadScoresSection h = decodeHeadScores(section);
    show(panel, h, kindFromKey(h.score));
}

std::unique_ptr<QCustomPlot> renderGrid(const Session& session, const FigureOptions& o) {
    const HeadScoresSection h = decodeHeadScores(requireSection(session, kPanel, "head score"));
    const HeadScoreKind kind = kindFromKey(o.option(QStringLiteral("score"), QString::fromStdString(h.score)).toStdString());
    auto* panel = new HeadGridPanel;
    show(panel, h, kind);
    MatrixPlot* grid = panel->grid();
    addFigureTitle(grid, QObject::tr("Heads by %1 (%2 tokens)").arg(headScoreName(kind)).arg(h.tokens));
    return detachPlot(panel, grid);
}

}  // namespace

void registerHeadGridPanel(PanelRegistry& registry) {
    registry.addSession({kPanel, QObject::tr("Head grid"), save, restore,
                         validateBy(decodeHeadScores)});
    registry.addFigure({QStringLiteral("head-grid"), kPanel,
                        QObject::tr("every layer x head coloured by a score (--opt score=entropy|first_token|previous_token|diagonal)"),
                        QSize(560, 520), renderGrid,
                        QObject::tr("<b>Head grid</b>: one cell per layer and head.<br>Entropy: mean over rows of "
                                    "<i>&minus;&Sigma;<sub>j</sub> A<sub>ij</sub> ln A<sub>ij</sub></i> (low = focused head). "
                                    "First token: causal mean of <i>A<sub>i0</sub></i>, the attention-sink heads of Xiao et al., "
                                    "<i>StreamingLLM</i>, ICLR 2024. Previous token: mean <i>A<sub>i,i&minus;1</sub></i> "
                                    "(Olsson et al., <i>In-context Learning and Induction Heads</i>, 2022). "
                                    "Diagonal: mean <i>A<sub>ii</sub></i>.")});
}

}  // namespace attnscope::widgets
