// The sinks panel in sessions and figures: the classification redraws the panel; the
// statistics it came from (when stored) let the app re-classify without the model.
#include <memory>

#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/sinks_panel.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "sinks";
constexpr const char* kKeys[] = {"score", "frac", "abs_cos", "hidden_norm"};  // kAllSinkQuantities order

SinkQuantity quantityFromKey(const std::string& key) {
    for (size_t i = 0; i < kAllSinkQuantities.size(); ++i)
        if (key == kKeys[i]) return kAllSinkQuantities[i];
    fail(ErrorKind::BadInput, "sinks: unknown quantity '" + key + "' (score, frac, abs_cos, hidden_norm)");
}
const char* keyOf(SinkQuantity q) { return kKeys[size_t(q)]; }

void show(SinksPanel* panel, const Session& session, const SinksSection& s, SinkQuantity q) {
    panel->setTokens(sessionTokens(session));
    panel->setParams(s.params);
    panel->setQuantity(q);
    panel->setResult(s.result);
    // Without stored statistics a parameter edit needs the model; never keep an older run's.
    panel->setInputs(s.hasInputs ? std::make_shared<const SinkInputs>(s.inputs) : nullptr);
}

bool save(QWidget* w, SessionSection& out) {
    auto* panel = qobject_cast<SinksPanel*>(w);
    if (!panel || !panel->hasResult()) return false;
    SinksSection s;
    s.params = panel->params();
    s.quantity = keyOf(panel->quantity());
    s.result = panel->result();
    // The statistics it was classified from, so that the reopened session re-classifies
    // without the model (only when they match the prompt the session stores).
    if (const auto& in = panel->inputs(); in && in->T == s.result.T) {
        s.hasInputs = true;
        s.inputs = *in;
    }
    out = encodeSinks(s);
    return true;
}

// Decoded, and consistent with the prompt (the panel indexes tokens by position).
SinksSection decodeChecked(const Session& session, const SessionSection& section) {
    SinksSection s = decodeSinks(section, session.tokenIds);
    if (s.result.T != int64_t(session.tokenIds.size()))
        fail(ErrorKind::BadInput, "sinks: the result covers " + std::to_string(s.result.T) + " tokens, the prompt has " +
                                      std::to_string(session.tokenIds.size()));
    quantityFromKey(s.quantity);
    return s;
}

void restore(QWidget* w, const Session& session, const SessionSection& section) {
    auto* panel = qobject_cast<SinksPanel*>(w);
    if (!panel) return;
    const SinksSection s = decodeChecked(session, section);
    show(panel, session, s, quantityFromKey(s.quantity));
}

enum class SinkFigure { TokenMap, Levels, Layers };

// Builds the panel from the session and hands the chosen plot out.
std::unique_ptr<QCustomPlot> render(const Session& session, const FigureOptions& o, SinkFigure which) {
    const SinksSection s = decodeChecked(session, requireSection(session, kPanel, "attention sink"));
    const SinkQuantity q = quantityFromKey(o.option(QStringLiteral("quantity"), QString::fromStdString(s.quantity)).toStdString());
    auto panel = std::make_unique<SinksPanel>();  // freed if anything throws before detachPlot takes it
    show(panel.get(), session, s, q);
    QCustomPlot* plot = panel->layerPlot();
    QString title = QObject::tr("Primary sink by layer");
    if (which == SinkFigure::TokenMap) {
        plot = panel->tokenMap();
        title = QObject::tr("Attention sinks: %1").arg(sinkQuantityName(q));
        panel->tokenMap()->setAxisTitles(QObject::tr("token position"), QObject::tr("layer"));  // no navigation hints on paper
    } else if (which == SinkFigure::Levels) {
        plot = panel->levelMap();
        title = QObject::tr("Sink levels");
    }
    addFigureTitle(plot, title);
    return detachPlot(panel.release(), plot);
}

}  // namespace

void registerSinksPanel(PanelRegistry& registry) {
    registry.addSession({kPanel, QObject::tr("Attention sinks"), save, restore,
                         [](const Session& session, const SessionSection& section) { decodeChecked(session, section); }});
    const QString tokenNote = sinkQuantityHelp(SinkQuantity::Score) + QStringLiteral("<br>") + sinkParameterHelp("token");
    addPanelFigures(registry, kPanel,
                    {{"sink-map", int(SinkFigure::TokenMap), {900, 420},
                      QT_TR_NOOP("token x layer map of a sink quantity with primary/secondary marks "
                                 "(--opt quantity=score|frac|abs_cos|hidden_norm)"),
                      tokenNote},
                     {"sink-levels", int(SinkFigure::Levels), {520, 440},
                      QT_TR_NOOP("sink levels: creation layer x lifetime, coloured by the number of tokens"),
                      sinkParameterHelp("levels")},
                     {"sink-layers", int(SinkFigure::Layers), {640, 420},
                      QT_TR_NOOP("per-layer curves: primary sink strength, weakening, secondary creations"),
                      sinkParameterHelp("layers")}},
                    [](const Session& s, const FigureOptions& o, int which) { return render(s, o, SinkFigure(which)); });
}

}  // namespace attnscope::widgets
