// A QCustomPlot showing one attention matrix exactly: one colour-map cell per value, no
// interpolation. Rows are queries (query 0 at the top), columns are keys.
#pragma once
#include <cstdint>
#include <optional>

#include <QStringList>
#include <qcustomplot.h>

#include "attnscope/views.h"
#include "plot/heatmap_common.h"
#include "plot/colormaps.h"

namespace attnscope::widgets {

enum class ColorScale { Linear, Log };

// The token positions a matrix covers: rows map to queries [q0, q1), columns to keys
// [k0, k1). A pooled overview has fewer rows/columns than positions.
struct HeatmapExtent {
    int64_t q0 = 0, q1 = 0, k0 = 0, k1 = 0;
};

// One cell under the cursor, in token positions ([query0, query1) x [key0, key1)).
struct HeatmapCell {
    int64_t query0 = 0, query1 = 0;
    int64_t key0 = 0, key1 = 0;
    float value = 0.f;
    bool masked = false;  // every key of the cell comes after every query (causal mask)
};

}  // namespace attnscope::widgets

// Declared beside the types so every translation unit sees the same specialisation.
Q_DECLARE_METATYPE(attnscope::widgets::HeatmapCell)
Q_DECLARE_METATYPE(attnscope::widgets::HeatmapExtent)

namespace attnscope::widgets {

class AttentionHeatmap : public QCustomPlot {
    Q_OBJECT
public:
    explicit AttentionHeatmap(QWidget* parent = nullptr);

    // An empty extent means one position per cell starting at 0. The view resets unless
    // the extent is the one already shown (another layer/head of the same prompt).
    void setMatrix(const Matrix2D& matrix, const HeatmapExtent& extent = {});
    void clearMatrix();
    const Matrix2D& matrix() const { return m_matrix; }
    const HeatmapExtent& extent() const { return m_extent; }
    // Whether the base matrix has one cell per query x key.
    bool isExact() const;

    // A finer matrix for part of the extent (what is on screen when zoomed into a pooled
    // overview), drawn over the base map until the view moves on.
    void setDetail(const Matrix2D& matrix, const HeatmapExtent& extent);
    void clearDetail();
    const Matrix2D& detail() const { return m_detail; }
    const HeatmapExtent& detailExtent() const { return m_detailExtent; }
    // The whole token positions on screen, clipped to the extent.
    HeatmapExtent visibleExtent() const;
    // Shows queries [q0, q1) x keys [k0, k1) (clipped to the extent).
    void setView(const HeatmapExtent& view);

    // Display text per token position, used as tick labels when zoomed in enough.
    void setTokenLabels(const QStringList& labels);

    void setColorScaleType(ColorScale scale);
    ColorScale colorScaleType() const { return m_scale; }
    // Smallest value drawn in log scale; zeros and tinier values are drawn at it.
    double logFloor() const { return m_logFloor; }

    void setColormap(Colormap map);
    Colormap colormap() const { return m_colormap; }

    // Draw cells above the diagonal (keys after the query) as background, not as zeros.
    void setCausalMask(bool on);
    // Outline one query row, or one key column (-1: none); the last call wins.
    void setSelectedQuery(int64_t query);
    void setSelectedKey(int64_t key);

    void resetView();

    // By suffix: .png, .svg or .pdf, at width x height pixels (points for PDF).
    bool exportTo(const QString& path, int width, int height);
    // The matrix as CSV, rows = queries, columns = keys, labelled with positions and tokens.
    QString csv() const;

    QCPColorMap* colorMap() const { return m_map; }
    QCPColorScale* colorScaleElement() const { return m_colorScale; }
    std::optional<HeatmapCell> cellAtPixel(const QPointF& pixel) const;
    std::optional<HeatmapCell> cellAt(int row, int col) const;
    bool showsTokenLabelsX() const { return m_textTicksX; }

signals:
    void cellHovered(const attnscope::widgets::HeatmapCell& cell);
    void hoverLeft();
    void headStepRequested(int delta);
    void layerStepRequested(int delta);
    // The view of a pooled base moved: the visible positions and the axis rect's size in
    // pixels, so the owner can fetch a finer tile. Not emitted for exact bases.
    void viewportChanged(const attnscope::widgets::HeatmapExtent& visible, int pixelWidth,
                         int pixelHeight);

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    void onMouseMove(QMouseEvent* event);
    void onRangeChanged();
    void fillCells(bool refillBase = true);
    void fillMap(QCPColorMap* map, const Matrix2D& matrix, const HeatmapExtent& extent) const;
    void emitViewport();
    void updateTickers();
    void updateSelectionOutline();
    void applyPalette();

    QCPColorMap *m_map = nullptr, *m_detailMap = nullptr;
    QCPColorScale* m_colorScale = nullptr;
    QCPItemRect* m_selection = nullptr;
    QSharedPointer<QCPAxisTickerText> m_textTickerX, m_textTickerY;
    QSharedPointer<QCPAxisTickerFixed> m_numberTickerX, m_numberTickerY;

    Matrix2D m_matrix;
    HeatmapExtent m_extent;
    Matrix2D m_detail;
    HeatmapExtent m_detailExtent;
    QStringList m_labels;
    ColorScale m_scale = ColorScale::Linear;
    Colormap m_colormap = Colormap::Viridis;
    double m_logFloor = 1e-6;
    double m_maxValue = 1.0;
    bool m_causalMask = true;
    bool m_textTicksX = false, m_textTicksY = false;
    CellView m_cells;  // guards the range clamping against its own rangeChanged
    int64_t m_selectedQuery = -1;
    int64_t m_selectedKey = -1;
};

}  // namespace attnscope::widgets
