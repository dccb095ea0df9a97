// The logit lens in sessions and figures.
#include <qcustomplot.h>

#include "attnscope/analyses/interventions.h"
#include "attnscope/error.h"
#include "panels/logit_lens_panel.h"
#include "plot/matrix_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "logit_lens";

std::unique_ptr<QCustomPlot> render(const Session& session, const FigureOptions& o) {
    const LogitLens lens = decodeLogitLens(requireSection(session, kPanel, "logit lens"));
    auto* panel = new LogitLensPanel;
    panel->setLens(lens);
    panel->setTokenPieces(session.tokenPieces);
    const QString view = o.option(QStringLiteral("view"), QStringLiteral("kl"));
    const QStringList views = {QStringLiteral("kl"), QStringLiteral("rank"), QStringLiteral("top"),
                               QStringLiteral("target")};
    if (!views.contains(view)) fail(ErrorKind::BadInput, "logit-lens: view must be kl, rank, top or target");
    if (view == QLatin1String("target") && lens.target < 0)
        fail(ErrorKind::BadInput,
             "logit-lens: the session's lens follows no target (attnscope-cli session --target TEXT)");
    panel->setView(LogitLensPanel::View(views.indexOf(view)));
    addFigureTitle(panel->plot(), QObject::tr("Logit lens (%1 tokens)").arg(lens.T));
    return detachPlot(panel, panel->plot());
}

}  // namespace

void registerLogitLensPanel(PanelRegistry& registry) {
    registry.addSession(resultSession(kPanel, QObject::tr("Logit Lens"), encodeLogitLens, decodeLogitLens,
                                      &LogitLensPanel::hasLens, &LogitLensPanel::lens, &LogitLensPanel::setLens,
                                      &LogitLensPanel::setTokenPieces));
    registry.addFigure(
        {QStringLiteral("logit-lens"), QString::fromLatin1(kPanel),
         QObject::tr("layer x position: each layer's residual read through the unembedding "
                     "(--opt view=kl|rank|top|target)"),
         QSize(900, 420), render,
         QObject::tr("<b>Logit lens</b> (nostalgebraist, 2020): <i>p<sup>l</sup><sub>t</sub> = "
                     "softmax(W<sub>U</sub> norm<sub>final</sub>(h<sup>l</sup><sub>t</sub>))</i> for the "
                     "residual stream <i>h<sup>l</sup></i> after layer <i>l</i>. KL(<i>p<sub>out</sub></i> "
                     "&#8214; <i>p<sup>l</sup></i>) falls to 0 at the last layer; where the output's token "
                     "reaches rank 0 is where the model has decided.")});
}

}  // namespace attnscope::widgets
