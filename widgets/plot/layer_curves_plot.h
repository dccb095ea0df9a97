// Curves against layer index (x = 0..L-1, integer ticks) with an optional right axis for
// counts, a legend, and decorations drawn behind the data (bands, reference lines). Shared
// by the sinks and Weibull panels; carries the plot menu and the theme.
#pragma once
#include <QColor>
#include <QPen>
#include <qcustomplot.h>

namespace attnscope::widgets {

class LayerCurvesPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit LayerCurvesPlot(const QString& exportName, QWidget* parent = nullptr);

    void setLayerCount(int n);  // x range [-0.5, n - 0.5]
    void setLegendColumns(int n) { legend->setWrap(n); }
    QCPGraph* addCurve(const QString& name, const QColor& color, bool rightAxis = false,
                       Qt::PenStyle style = Qt::SolidLine);
    QCPBars* addBars(const QString& name, const QColor& color, bool rightAxis = true);
    static void setIntegerTicks(QCPAxis* axis);

    // Behind the data; all removed by clearDecorations().
    void addLayerBand(double from, double to, const QColor& color);    // x in layer units
    void addValueBand(double lo, double hi, const QColor& color, const QString& label = {});
    void addValueLine(double y, const QPen& pen, const QString& label = {});
    void addLayerLine(double x, const QPen& pen, const QString& label = {});  // vertical, label at the bottom
    // Text at (x as a fraction of the axis rect, y in data units).
    void addLabel(const QString& label, double xRatio, double y, Qt::Alignment align, const QColor& color);
    void clearDecorations();
};

}  // namespace attnscope::widgets
