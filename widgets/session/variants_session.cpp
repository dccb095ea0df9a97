// The attention-variants lab in sessions and figures: the stored section redraws the panel (the
// comparison of every variant, the kept head's map pair); the figures pick the comparison's
// metric and the KL curve's variant with --opt.
#include <memory>

#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/analyses/variants.h"
#include "panels/variants_panel.h"
#include "plot/variant_pair_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "variants";

enum class VariantFigure { MapPair, Compare, KlCurve };

std::unique_ptr<QCustomPlot> render(const Session& session, const FigureOptions& o, VariantFigure which) {
    const VariantsResult r = decodeVariants(requireSection(session, kPanel, "attention variants"));
    auto panel = std::make_unique<VariantsPanel>();
    QStringList tokens;
    for (const std::string& piece : sessionTokens(session).pieces) tokens << QString::fromStdString(piece);
    panel->setTokenLabels(tokens);
    panel->setResult(r);
    QCustomPlot* plot = nullptr;
    QString title;
    if (which == VariantFigure::MapPair) {
        if (!r.hasPair)
            fail(ErrorKind::BadInput, "variant-map-pair: the session keeps no map pair (--variant-map NAME)");
        plot = panel->pairPlot();
        title = QObject::tr("Layer %1 head %2: softmax beside %3 (%4 tokens)")
                    .arg(r.pair.layer)
                    .arg(r.pair.head)
                    .arg(QString::fromStdString(r.pair.name))
                    .arg(r.pair.T);
    } else if (which == VariantFigure::Compare) {
        panel->setCompareMetric(o.option(QStringLiteral("metric"), QStringLiteral("output_rel_err")));
        plot = panel->comparePlot();
        title = QObject::tr("Attention variants against softmax: layer %1, %2 tokens").arg(r.layer).arg(r.tokens);
    } else {
        const QString name =
            o.option(QStringLiteral("variant"), r.hasPair ? QString::fromStdString(r.pair.name) : QString());
        bool found = false;
        for (const VariantRun& v : r.variants) found |= v.hasEndToEnd && QString::fromStdString(v.name) == name;
        if (!found)
            fail(ErrorKind::BadInput, "variant-kl-curve: the session has no end-to-end run of '" + name.toStdString() +
                                          "' (--opt variant=NAME; compute with --variant-substitute 1)");
        panel->selectVariant(name);
        plot = panel->klPlot();
        title = QObject::tr("%1 in layer %2%3: next-token KL against the model")
                    .arg(name)
                    .arg(r.layer)
                    .arg(r.allLayers ? QObject::tr(" (and every other layer)") : QString());
    }
    addFigureTitle(plot, title);
    return detachPlot(panel.release(), plot);
}

QString help() {
    return QObject::tr(
        "<b>Attention variants</b> (shared reference A&ndash;D): each variant replays the layer's traced "
        "<i>q, k, v</i>; output error <i>&Vert;O&prime;&minus;O&Vert;/&Vert;O&Vert;</i>, row KL of "
        "<i>p = |W|/&Sigma;|W|</i> against softmax, entropy gap in nats, end-to-end next-token KL with "
        "the variant in place.");
}

}  // namespace

void registerVariantsPanel(PanelRegistry& registry) {
    registry.addSession(resultSession(kPanel, QObject::tr("Attention Variants"), encodeVariants, decodeVariants,
                                      &VariantsPanel::hasResult, &VariantsPanel::result, &VariantsPanel::setResult));
    addPanelFigures(
        registry, kPanel,
        {{"variant-map-pair",
          int(VariantFigure::MapPair),
          {900, 820},
          QT_TR_NOOP("one head's softmax map, the variant's map (same colour scale) and their difference"),
          help()},
         {"variant-compare-table",
          int(VariantFigure::Compare),
          {640, 520},
          QT_TR_NOOP("every variant against softmax, one bar each (--opt metric=output_rel_err|row_kl_mean|"
                     "entropy_gap|sink_mass|e2e_kl)"),
          help()},
         {"variant-kl-curve",
          int(VariantFigure::KlCurve),
          {720, 380},
          QT_TR_NOOP("next-token KL at every position with the variant in place (--opt variant=NAME)"),
          help()}},
        [](const Session& s, const FigureOptions& o, int which) { return render(s, o, VariantFigure(which)); });
}

}  // namespace attnscope::widgets
