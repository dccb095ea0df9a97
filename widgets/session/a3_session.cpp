// The A^3 lab in sessions and figures: the stored sweep redraws the panel; the figures pick
// a layer (--layer), a component, a rank, a metric and the map's mode with --opt.
#include <memory>

#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/a3_panel.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "a3";

enum class A3Figure { LayerMap, ErrorVsRank, Savings };

// The fraction index nearest to --opt rank=F (default 0.5).
size_t rankIndex(const A3Result& r, const FigureOptions& o) {
    bool ok = false;
    const double want = o.option(QStringLiteral("rank"), QStringLiteral("0.5")).toDouble(&ok);
    if (!ok || !(want > 0 && want <= 1)) fail(ErrorKind::BadInput, "a3 figures: --opt rank expects a fraction in (0, 1]");
    size_t best = 0;
    for (size_t i = 0; i < r.fractions.size(); ++i)
        if (std::abs(r.fractions[i] - want) < std::abs(r.fractions[best] - want)) best = i;
    return best;
}

std::unique_ptr<QCustomPlot> render(const Session& session, const FigureOptions& o, A3Figure which) {
    const A3Result r = decodeA3(requireSection(session, kPanel, "A^3"));
    const A3Component c = parseA3Component(o.option(QStringLiteral("component"), QStringLiteral("qk")).toStdString());
    const A3Metric m = a3MetricFromKey(o.option(QStringLiteral("metric"), QStringLiteral("held_out")));
    const QString modeKey = o.option(QStringLiteral("map"), QStringLiteral("a3"));
    const A3MapMode mode = modeKey == QLatin1String("baseline") ? A3MapMode::Baseline
                         : modeKey == QLatin1String("gain")     ? A3MapMode::Gain
                                                                : A3MapMode::A3;
    if (modeKey != QLatin1String("a3") && mode == A3MapMode::A3)
        fail(ErrorKind::BadInput, "a3 figures: --opt map expects a3, baseline or gain");
    const int layer = o.layer >= 0 ? o.layer : 0;
    if (layer >= r.nLayers) fail(ErrorKind::BadInput, "a3 figures: the model has " + std::to_string(r.nLayers) + " layers");
    auto panel = std::make_unique<A3Panel>();  // freed if anything throws before detachPlot takes it
    panel->setResult(r);
    const size_t f = rankIndex(r, o);
    panel->setView(layer, c, f, m, mode);
    const QString at = QStringLiteral("%1%").arg(r.fractions[f] * 100.0, 0, 'f', 0);
    QCustomPlot* plot = panel->layerMap();
    QString title = QObject::tr("A^3: %1 at %2 of every dimension").arg(a3MetricName(m), at);
    if (which == A3Figure::ErrorVsRank) {
        plot = panel->curves();
        title = QObject::tr("A^3 vs baseline: layer %1 %2").arg(layer).arg(a3ComponentTitle(c));
    } else if (which == A3Figure::Savings) {
        plot = panel->savings();
        title = QObject::tr("A^3 at %1: KV cache and weights").arg(at);
    }
    addFigureTitle(plot, title);
    return detachPlot(panel.release(), plot);
}

}  // namespace

void registerA3Panel(PanelRegistry& registry) {
    registry.addSession(resultSession(kPanel, QObject::tr("A^3 Low-Rank"), encodeA3, decodeA3, &A3Panel::hasResult,
                                      &A3Panel::result, &A3Panel::setResult));
    addPanelFigures(registry, kPanel,
                    {{"a3-layer-map", int(A3Figure::LayerMap), {520, 560},
                      QT_TR_NOOP("layer x component error at one rank (--opt rank=0.5 "
                                 "metric=held_out|objective|row_kl|weight_err map=a3|baseline|gain)"),
                      a3Help("metric")},
                     {"a3-error-vs-rank", int(A3Figure::ErrorVsRank), {640, 420},
                      QT_TR_NOOP("one layer's error against rank, A^3 beside its baseline (--layer L "
                                 "--opt component=qk|ov|mlp metric=...)"),
                      a3Help("component")},
                     {"a3-savings", int(A3Figure::Savings), {560, 380},
                      QT_TR_NOOP("KV-cache bytes per token in full and reduced, and the weights removed (--opt rank=F)"),
                      a3Help("savings")}},
                    [](const Session& s, const FigureOptions& o, int which) { return render(s, o, A3Figure(which)); });
}

}  // namespace attnscope::widgets
