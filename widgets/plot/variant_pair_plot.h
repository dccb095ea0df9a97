// One head's softmax map and a variant's map side by side, their difference and both maps'
// row entropy (issue 19): one plot, laid out 2 x 2 so it fits a dock. The maps show the pair's
// tile (exact: one cell per query x key; pooled on long prompts: each cell a block's largest
// weight), query 0 at the top, the causal mask blank, with linked zoom and pan; the two maps
// share one colour scale, the difference has a diverging one centred on 0; the entropy curves
// follow the maps' query range. A zoom or pan that leaves the tile, or shows a pooled one,
// asks for the exact tile of the view (tileWanted).
#pragma once
#include <QStringList>
#include <qcustomplot.h>

#include "attnscope/analyses/variants.h"

namespace attnscope::widgets {

class VariantPairPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit VariantPairPlot(QWidget* parent = nullptr);

    // `tokens`: one label per position (tick labels when few enough are on screen), or empty.
    // Another tile of the same head and prompt keeps the view; anything else shows the tile.
    void setPair(const VariantHeadPair& pair, const QStringList& tokens = {});
    void clearPair();
    bool hasPair() const { return m_T > 0; }
    // Colour range of the two maps: [0, max of both] (linear) or four decades below it (log).
    void setLogScale(bool log);
    // Shows queries [q0, q1) x keys [k0, k1) in the three maps (and those queries' entropy).
    void setView(double k0, double k1, double q0, double q1);
    // 0 softmax, 1 variant, 2 difference; 3 is the entropy plot.
    QCPAxisRect* rect(int i) const { return m_rects[i]; }
    QCPColorMap* map(int i) const { return m_maps[i]; }
    QCPColorScale* mapScale() const { return m_scale; }
    QCPColorScale* differenceScale() const { return m_diffScale; }
    // The tile the current view needs: the visible queries x keys, or none (rows = 0) when the
    // pair's tile already shows them exactly.
    VariantTile wantedTile() const;

signals:
    // The view settled (200 ms after a zoom or pan) on a region the pair's tile does not show exactly.
    void tileWanted(const attnscope::VariantTile& tile);

private:
    void fill();
    void fillEntropy();
    void linkRanges();
    void updateTicks();

    QCPAxisRect* m_rects[4] = {};
    QCPColorMap* m_maps[3] = {};
    QCPColorScale *m_scale = nullptr, *m_diffScale = nullptr;
    VariantHeadPair m_pair;
    QStringList m_tokens;
    int64_t m_T = 0;
    bool m_log = false, m_linking = false;
    QTimer* m_settle = nullptr;
};

}  // namespace attnscope::widgets
