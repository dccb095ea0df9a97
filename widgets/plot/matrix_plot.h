// A labelled exact heatmap for the analysis panels (token x layer, layer x component,
// layer x head, creation layer x lifetime): one cell per value, no interpolation, text
// labels on both axes (thinned when too dense), a titled colour bar, a tooltip per cell,
// and a current cell chosen by click or arrow keys. Rows run down from the top by default.
#pragma once
#include <functional>
#include <optional>

#include <QStringList>
#include <qcustomplot.h>

#include "attnscope/views.h"
#include "plot/heatmap_common.h"

namespace attnscope::widgets {

class MatrixPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit MatrixPlot(QWidget* parent = nullptr);

    // rows x cols values. NaN means "no value": the cell shows the background.
    void setMatrix(const Matrix2D& matrix);
    void clearMatrix();
    const Matrix2D& matrix() const { return m_matrix; }

    void setRowLabels(const QStringList& labels);
    void setColumnLabels(const QStringList& labels);
    QString rowLabel(int row) const;
    QString columnLabel(int col) const;
    // When there is no room for every label: show positions (true) or every n-th label.
    void setNumbersWhenDense(bool rows, bool columns);
    void setColumnLabelsVertical(bool vertical);

    void setAxisTitles(const QString& columns, const QString& rows);
    void setValueTitle(const QString& title);
    void setGradient(const QCPColorGradient& gradient);
    // A fixed colour range (e.g. centred on an anchor); nullopt: the data's min to max.
    void setValueRange(std::optional<QCPRange> range);
    void setRowsTopDown(bool topDown);
    // Wheel zoom and drag pan along these directions (none by default).
    void setZoomable(Qt::Orientations orientations);
    void setCellDescriber(std::function<QString(int row, int col)> describe) { m_describe = std::move(describe); }
    void setKeyboardNavigation(bool on) { m_keys = on; }

    // Outline one cell; (-1, -1) for none. Emits nothing.
    void setCurrentCell(int row, int col);
    int currentRow() const { return m_currentRow; }
    int currentColumn() const { return m_currentCol; }

    // Widget pixel of a cell's centre, and the cell (x = column, y = row) under a pixel.
    QPointF cellCenter(int row, int col) const;
    std::optional<QPoint> cellAt(const QPointF& pixel) const;

    QCPColorMap* colorMap() const { return m_map; }
    QCPColorScale* colorScaleElement() const { return m_scale; }
    // row,row_label,column,column_label,value for every cell with a value.
    QString csv() const;
    void resetView();

signals:
    void cellClicked(int row, int col);
    void currentCellChanged(int row, int col);  // by click or arrow keys
    void cellHovered(int row, int col);         // (-1, -1) when the cursor leaves the cells

protected:
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void fillCells();
    void onRangeChanged();
    void updateTicks();
    void updateOutline();
    void moveCurrent(int dRow, int dCol);

    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPItemRect* m_outline = nullptr;
    Matrix2D m_matrix;
    QStringList m_rowLabels, m_colLabels;
    bool m_rowNumbersWhenDense = false, m_colNumbersWhenDense = false;
    bool m_colVertical = false;
    std::optional<QCPRange> m_fixedRange;
    std::function<QString(int, int)> m_describe;
    bool m_keys = false;
    CellView m_cells;  // guards the range clamping against its own rangeChanged
    int m_currentRow = -1, m_currentCol = -1;
    QPoint m_pressPos;
    // Width of the widest column label (horizontal labels only), cached.
    const QStringList* m_widestFor = nullptr;
    qsizetype m_widestCount = 0;
    double m_widest = 0;
};

}  // namespace attnscope::widgets
