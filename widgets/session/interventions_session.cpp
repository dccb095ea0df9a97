// Interventions and activation patching in sessions and figures.
#include <qcustomplot.h>

#include "attnscope/analyses/interventions.h"
#include "attnscope/error.h"
#include "panels/interventions_panel.h"
#include "panels/patching_panel.h"
#include "plot/matrix_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

std::unique_ptr<QCustomPlot> renderIntervention(const Session& session, const FigureOptions&) {
    const InterventionSection s = decodeIntervention(requireSection(session, "intervene", "intervention"));
    auto* panel = new InterventionsPanel;
    panel->setTokenPieces(session.tokenPieces);
    panel->setResult(s);
    addFigureTitle(panel->plot(), s.kind == "sink_test"
                                      ? QObject::tr("Causal sink test: token %1, MLP of layer %2 ablated")
                                            .arg(s.sinkTest.token)
                                            .arg(s.sinkTest.creationLayer)
                                      : QObject::tr("Ablation: %1").arg(QString::fromStdString(s.ablation.note)));
    return detachPlot(panel, panel->plot());
}

std::unique_ptr<QCustomPlot> renderPatch(const Session& session, const FigureOptions&) {
    const PatchResult r = decodePatch(requireSection(session, "patch", "patching"));
    auto* panel = new PatchingPanel;
    panel->setTokenPieces(session.tokenPieces);
    panel->setResult(r);
    addFigureTitle(
        panel->plot(),
        QObject::tr("Activation patching (%1): normalised logit difference").arg(QString::fromStdString(r.what)));
    return detachPlot(panel, panel->plot());
}

}  // namespace

void registerInterventionsPanel(PanelRegistry& registry) {
    registry.addSession(resultSession("intervene", QObject::tr("Interventions"), encodeIntervention, decodeIntervention,
                                      &InterventionsPanel::hasResult, &InterventionsPanel::result,
                                      &InterventionsPanel::setResult, &InterventionsPanel::setTokenPieces));
    registry.addFigure({QStringLiteral("intervention"), QStringLiteral("intervene"),
                        QObject::tr("an ablation's next-token KL and logit change by position, or the causal sink "
                                    "test's sink score by layer"),
                        QSize(900, 460), renderIntervention,
                        QObject::tr("<b>Ablation</b>: the component is replaced (zero, its mean over positions, or "
                                    "scaled) and every later layer recomputed; KL(<i>p<sub>run</sub></i> &#8214; "
                                    "<i>p<sub>ablated</sub></i>) of the next token at each position. <b>Causal sink "
                                    "test</b>: the MLP output that creates a secondary sink ablated at that token "
                                    "(Wong et al., arXiv 2512.22213).")});
}

void registerPatchingPanel(PanelRegistry& registry) {
    registry.addSession(resultSession("patch", QObject::tr("Activation Patching"), encodePatch, decodePatch,
                                      &PatchingPanel::hasResult, &PatchingPanel::result, &PatchingPanel::setResult,
                                      &PatchingPanel::setTokenPieces));
    registry.addFigure(
        {QStringLiteral("patching-map"), QStringLiteral("patch"),
         QObject::tr("activation patching: layer x position (resid, mlp) or layer x head"), QSize(900, 420),
         renderPatch,
         QObject::tr("<b>Activation patching</b> (denoising): one clean activation patched into the "
                     "corrupted run; <i>(LD<sub>patched</sub> &minus; LD<sub>corrupt</sub>) / "
                     "(LD<sub>clean</sub> &minus; LD<sub>corrupt</sub>)</i> with LD the logit difference "
                     "of the two answers at the last position: 1 = the clean behaviour restored.")});
}

}  // namespace attnscope::widgets
