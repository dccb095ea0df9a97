// The KV-cache eviction panel in sessions and figures: policy A's decision with its local and
// end-to-end metrics, the pinned B's decision and the budget sweep redraw the keep maps, the
// compare tab and the sweep plot without the model.
#include <memory>

#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/kv_panel.h"
#include "plot/kv_keep_map.h"
#include "plot/kv_sweep_plot.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "kv";
constexpr const char* kMetricKeys[] = {"kl", "top1", "retained_mass", "output_rel_err", "ppl"};  // kAllKvSweepMetrics order

KvSweepMetric metricOf(const std::string& key) {
    for (size_t i = 0; i < std::size(kMetricKeys); ++i)
        if (key == kMetricKeys[i]) return kAllKvSweepMetrics[i];
    fail(ErrorKind::BadInput, "kv: unknown sweep metric '" + key + "' (kl, top1, retained_mass, output_rel_err, ppl)");
}
const char* keyOf(KvSweepMetric m) {
    for (size_t i = 0; i < std::size(kMetricKeys); ++i)
        if (kAllKvSweepMetrics[i] == m) return kMetricKeys[i];
    return "kl";
}

std::vector<KvSweepPoint> pointsOf(const std::vector<KvSweepRow>& rows) {
    std::vector<KvSweepPoint> out;
    for (const KvSweepRow& r : rows) out.push_back({r.policy, r.budget, r.kl, r.top1, r.ppl, r.pplFull, r.retainedMass, r.outputRelErr});
    return out;
}
std::vector<KvSweepRow> rowsOf(const std::vector<KvSweepPoint>& points) {
    std::vector<KvSweepRow> out;
    for (const KvSweepPoint& p : points) out.push_back({p.policy, p.budget, p.kl, p.top1, p.ppl, p.pplFull, p.retainedMass, p.outputRelErr});
    return out;
}

// The panel as it was; the tokens of the section (prompt + continuation), else the prompt's.
void show(KvPanel* panel, const Session& session, const KvSection& k) {
    if (panel->policies().empty()) {
        std::vector<KvPolicyInfo> policies = k.policies;
        for (const KvParams* p : {&k.params, k.hasCompare ? &k.compareParams : nullptr})
            if (p && !kvFindPolicy(policies, p->policy)) policies.push_back({p->policy, p->policy, {}, false, false, {}});
        panel->setPolicies(policies);
    }
    panel->setTokens(k.tokens.ids.empty() ? sessionTokens(session) : k.tokens);
    panel->setParams(k.params);
    panel->setSinkPositions(k.sinks);
    panel->setSelection(k.selection, k.metrics);
    if (k.hasEndToEnd) panel->setEndToEnd(k.endToEnd);
    if (k.hasCompare) panel->setCompare(k.compareParams, k.compare);
    panel->setSweepMetric(metricOf(k.sweepMetric));
    panel->setSweepLog(k.sweepLog);
    panel->setSweep(pointsOf(k.sweep));
    panel->setStep(k.step);
}

bool save(QWidget* w, SessionSection& out) {
    auto* panel = qobject_cast<KvPanel*>(w);
    if (!panel || !panel->hasSelection()) return false;
    KvSection k;
    k.policies = panel->policies();
    k.tokens = panel->tokens();
    k.params = panel->params();
    k.selection = panel->selection();
    k.metrics = panel->localMetrics();
    k.hasEndToEnd = panel->hasEndToEnd();
    if (k.hasEndToEnd) k.endToEnd = panel->endToEnd();
    k.hasCompare = panel->hasCompareSelection() && panel->compareParams().has_value();
    if (k.hasCompare) {
        k.compareParams = *panel->compareParams();
        k.compare = panel->compareSelection();
    }
    k.sweep = rowsOf(panel->sweep());
    k.sweepMetric = keyOf(panel->sweepMetric());
    k.sweepLog = panel->sweepLog();
    k.sinks = panel->sinkPositions();
    k.step = panel->step();
    out = encodeKv(k);
    return true;
}

void restore(QWidget* w, const Session& session, const SessionSection& section) {
    if (auto* panel = qobject_cast<KvPanel*>(w)) show(panel, session, decodeKv(section));
}

// Builds the panel from the session (figure options over the stored view) and hands the
// chosen plot out.
template <class Pick>
std::unique_ptr<QCustomPlot> render(const Session& session, const FigureOptions& o, Pick pick) {
    KvSection k = decodeKv(requireSection(session, kPanel, "KV-cache eviction"));
    k.sweepMetric = o.option(QStringLiteral("metric"), QString::fromStdString(k.sweepMetric)).toStdString();
    if (const QString log = o.option(QStringLiteral("log")); !log.isEmpty()) k.sweepLog = log != QLatin1String("0");
    auto panel = std::make_unique<KvPanel>();  // freed if anything throws before detachPlot takes it
    show(panel.get(), session, k);
    const int layer = o.layer >= 0 ? o.layer : session.view.layer;
    if (layer >= k.selection.nLayers)
        fail(ErrorKind::BadInput, "kv: layer " + std::to_string(layer) + " is outside the " +
                                      std::to_string(k.selection.nLayers) + " layers");
    panel->selectLayerHead(layer, o.head >= -1 ? o.head : -1);
    auto [plot, title] = pick(panel.get(), k);
    addFigureTitle(plot, title);
    return detachPlot(panel.release(), plot);
}

QCustomPlot* keepMapOf(KvPanel* p, const KvSection& k, const QString& which) {
    if (which == QLatin1String("a")) return p->keepMap();
    if (which != QLatin1String("b") && which != QLatin1String("diff"))
        fail(ErrorKind::BadInput, "kv: --opt map must be a, b or diff");
    if (!k.hasCompare) fail(ErrorKind::BadInput, "kv: the session stores no pinned policy B to compare with");
    return which == QLatin1String("b") ? p->compareMapB() : p->diffMap();
}

}  // namespace

void registerKvPanel(PanelRegistry& registry) {
    registry.addSession({kPanel, QObject::tr("KV-cache eviction"), save, restore,
                         [](const Session&, const SessionSection& section) {
                             const KvSection k = decodeKv(section);
                             metricOf(k.sweepMetric);
                         }});
    registry.addFigure({QStringLiteral("kv-keep-map"), kPanel,
                        QObject::tr("kept/evicted tokens per layer (and the selected layer's heads) for policy A "
                                    "(--opt map=a|b|diff: A, the pinned B, or A minus B)"),
                        QSize(900, 520), [](const Session& s, const FigureOptions& o) {
                            return render(s, o, [&o](KvPanel* p, const KvSection& k) {
                                const QString which = o.option(QStringLiteral("map"), QStringLiteral("a"));
                                const KvParams& shown = which == QLatin1String("b") ? k.compareParams : k.params;
                                QString title = which == QLatin1String("diff")
                                                    ? QObject::tr("KV keep map, A minus B: %1 vs %2")
                                                          .arg(kvParamsLabel(k.params, p->policies()),
                                                               kvParamsLabel(k.compareParams, p->policies()))
                                                    : QObject::tr("KV keep map: %1").arg(kvParamsLabel(shown, p->policies()));
                                title += QObject::tr(" (%1 prompt tokens; layer %2 expanded into its query heads)")
                                             .arg(k.selection.promptLength)
                                             .arg(p->selectedLayer());
                                return std::pair<QCustomPlot*, QString>(keepMapOf(p, k, which), title);
                            });
                        },
                        QObject::tr("<b>Keep map</b>: which prompt tokens (columns) each layer keeps in its KV cache "
                                    "after the policy's decision; a layer row shows the share of its query heads "
                                    "that keep the token. Budgets count every kept token per head, sink and "
                                    "window included. <i>Reference Part 2.</i>")});
    registry.addFigure({QStringLiteral("kv-budget-sweep"), kPanel,
                        QObject::tr("fidelity against KV budget, one line per policy (--opt metric=kl|top1|retained_mass|"
                                    "output_rel_err|ppl,log=0|1)"),
                        QSize(860, 520), [](const Session& s, const FigureOptions& o) {
                            return render(s, o, [](KvPanel* p, const KvSection& k) {
                                if (k.sweep.empty()) fail(ErrorKind::BadInput, "kv: the session stores no budget sweep");
                                return std::pair<QCustomPlot*, QString>(
                                    p->sweepPlot(), QObject::tr("KV budget sweep: %1-token prompt, prefill decision, "
                                                                "%2-token continuation re-run")
                                                        .arg(k.selection.promptLength)
                                                        .arg(k.selection.T - k.selection.promptLength));
                            });
                        },
                        kvSweepMetricName(KvSweepMetric::Kl) + QObject::tr(
                            ": for each policy (default parameters, prefill decision) and budget B, the continuation "
                            "re-run with \u2212\u221e logits on evicted keys. <i>Reference Part 3 \u00a73.2.</i>")});
}

}  // namespace attnscope::widgets
