// A QCustomPlot showing one attention matrix exactly: one colour-map cell per value, no
// interpolation. Rows are queries (query 0 at the top), columns are keys.
#pragma once
#include <cstdint>
#include <optional>

#include <QStringList>
#include <qcustomplot.h>

#include "attnscope/views.h"
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

    // An empty extent means one position per cell starting at 0.
    void setMatrix(const Matrix2D& matrix, const HeatmapExtent& extent = {});
    void clearMatrix();
    const Matrix2D& matrix() const { return m_matrix; }
    const HeatmapExtent& extent() const { return m_extent; }

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
    // Outline one query row (-1: none).
    void setSelectedQuery(int64_t query);

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

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    void onMouseMove(QMouseEvent* event);
    void onRangeChanged();
    void fillCells();
    void updateTickers();
    void updateSelectionOutline();
    void applyPalette();
    double cellWidth() const;   // positions per column
    double cellHeight() const;  // positions per row

    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_colorScale = nullptr;
    QCPItemRect* m_selection = nullptr;
    QSharedPointer<QCPAxisTickerText> m_textTickerX, m_textTickerY;
    QSharedPointer<QCPAxisTickerFixed> m_numberTickerX, m_numberTickerY;

    Matrix2D m_matrix;
    HeatmapExtent m_extent;
    QStringList m_labels;
    ColorScale m_scale = ColorScale::Linear;
    Colormap m_colormap = Colormap::Viridis;
    double m_logFloor = 1e-6;
    double m_maxValue = 1.0;
    bool m_causalMask = true;
    bool m_textTicksX = false, m_textTicksY = false;
    bool m_clamping = false;
    int64_t m_selectedQuery = -1;
};

}  // namespace attnscope::widgets
