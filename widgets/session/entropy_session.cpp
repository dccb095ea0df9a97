// Attention entropy by layer in sessions and figures.
#include <qcustomplot.h>

#include "attnscope/session_codecs.h"
#include "panels/entropy_panel.h"
#include "plot/layer_curves_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "entropy";

std::unique_ptr<QCustomPlot> render(const Session& session, const FigureOptions&) {
    const EntropyProfile e = decodeEntropyProfile(requireSection(session, kPanel, "entropy"));
    auto* panel = new EntropyPanel;
    panel->setProfile(e);
    addFigureTitle(panel->plot(), QObject::tr("Attention entropy by layer (%1 tokens, mean over heads)").arg(e.tokens));
    return detachPlot(panel, panel->plot());
}

}  // namespace

void registerEntropyPanel(PanelRegistry& registry) {
    registry.addSession(resultSession(kPanel, QObject::tr("Entropy by Layer"), encodeEntropyProfile, decodeEntropyProfile,
                                      &EntropyPanel::hasProfile, &EntropyPanel::profile, &EntropyPanel::setProfile));
    registry.addFigure({QStringLiteral("entropy-by-layer"), kPanel,
                        QObject::tr("each layer's attention entropy against the query position, with ln(i+1)"),
                        QSize(800, 520), render,
                        QObject::tr("<b>Attention entropy by layer</b>: <i>H<sup>l</sup><sub>i</sub> = mean<sub>h</sub> "
                                    "&minus;&Sigma;<sub>j&le;i</sub> A<sub>ij</sub> ln A<sub>ij</sub></i>; the dashed line "
                                    "<i>ln(i+1)</i> is uniform attention over the keys row <i>i</i> sees. Low entropy: "
                                    "focused heads (e.g. on an attention sink).")});
}

}  // namespace attnscope::widgets
