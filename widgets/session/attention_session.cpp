// The attention-maps panel in sessions and figures: stored maps (layer, head) redraw the
// panel; "attention-map" exports one of them.
#include <memory>

#include <qcustomplot.h>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "panels/attention_maps_panel.h"
#include "plot/colormaps.h"
#include "session/panel_sessions.h"

namespace attnscope::widgets {
namespace {

constexpr char kPanel[] = "attention";

void show(AttentionMapsPanel* panel, const Session& session, const AttentionSection& a, int layer, int head) {
    const StoredAttentionMap* m = a.find(layer, head);
    if (!m) {
        std::string stored;
        for (const auto& s : a.maps) stored += (stored.empty() ? "" : ", ") + std::to_string(s.layer) + "/" + std::to_string(s.head);
        fail(ErrorKind::BadInput, "the session stores no attention map for layer " + std::to_string(layer) + ", head " +
                                      std::to_string(head) + " (stored layer/head: " + (stored.empty() ? "none" : stored) + ")");
    }
    panel->setModelShape(std::max(a.nLayers, 1), std::max(a.nHeads, 1));
    panel->setTokens(sessionTokens(session));
    if (auto map = colormapFromName(QString::fromStdString(a.colormap))) panel->setColormap(*map);
    if (a.scale == "auto") panel->setAutoColorScale();  // linear up to 128 tokens, log above
    else panel->setColorScale(a.scale == "log" ? ColorScale::Log : ColorScale::Linear);
    panel->setLayerHead(layer, head);  // the spin boxes; its view request finds no model to ask
    panel->setAttention(m->matrix, HeatmapExtent{m->q0, m->q1, m->k0, m->k1}, layer, head);
}

bool save(QWidget* w, SessionSection& out) {
    auto* panel = qobject_cast<AttentionMapsPanel*>(w);
    if (!panel || panel->heatmap()->matrix().data.empty()) return false;
    AttentionSection a;
    a.layer = panel->layer();
    a.head = panel->head();
    a.colormap = colormapName(panel->heatmap()->colormap()).toStdString();
    a.scale = panel->isAutoColorScale() ? "auto" : panel->heatmap()->colorScaleType() == ColorScale::Log ? "log" : "linear";
    const HeatmapExtent e = panel->heatmap()->extent();
    a.maps.push_back({a.layer, a.head, e.q0, e.q1, e.k0, e.k1, panel->heatmap()->matrix()});
    out = encodeAttention(a);
    return true;
}

void restore(QWidget* w, const Session& session, const SessionSection& section) {
    auto* panel = qobject_cast<AttentionMapsPanel*>(w);
    if (!panel) return;
    const AttentionSection a = decodeAttention(section);  // validates before the panel changes
    if (a.maps.empty()) return;
    const StoredAttentionMap* m = a.find(a.layer, a.head) ? a.find(a.layer, a.head) : &a.maps.front();
    show(panel, session, a, m->layer, m->head);
}

std::unique_ptr<QCustomPlot> renderMap(const Session& session, const FigureOptions& o) {
    const AttentionSection a = decodeAttention(requireSection(session, kPanel, "attention map"));
    const int layer = o.layer >= 0 ? o.layer : a.layer;
    const int head = o.head >= -1 ? o.head : a.head;
    auto panel = std::make_unique<AttentionMapsPanel>();  // freed if anything throws before detachPlot takes it
    show(panel.get(), session, a, layer, head);
    AttentionHeatmap* map = panel->heatmap();
    addFigureTitle(map, head < 0 ? QObject::tr("Attention, layer %1, mean of heads").arg(layer)
                                 : QObject::tr("Attention, layer %1, head %2").arg(layer).arg(head));
    return detachPlot(panel.release(), map);
}

}  // namespace

void registerAttentionPanel(PanelRegistry& registry) {
    registry.addSession({kPanel, QObject::tr("Attention maps"), save, restore,
                         validateBy(decodeAttention)});
    registry.addFigure({QStringLiteral("attention-map"), kPanel,
                        QObject::tr("attention probabilities of one layer/head (query x key), with token labels"),
                        QSize(640, 600), renderMap,
                        QObject::tr("<b>Attention map</b>: how much each query token (row) reads from each earlier key "
                                    "token (column).<br><i>A = softmax(Q K<sup>T</sup> / &radic;d + M)</i>, M = &minus;&infin; "
                                    "above the diagonal (causal mask); every row sums to 1.<br>Vaswani et al., "
                                    "<i>Attention Is All You Need</i>, NeurIPS 2017.")});
}

}  // namespace attnscope::widgets
