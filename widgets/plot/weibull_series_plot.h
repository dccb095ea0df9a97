// k and λ against training step over a checkpoint series: one line per component (mean
// over its layers), in two panes side by side; the k pane carries the Transmission band
// and the HalfNormal anchor.
#pragma once
#include <qcustomplot.h>

#include <vector>

#include "attnscope/analyses/weibull_series.h"  // plain structs only

namespace attnscope::widgets {

class WeibullSeriesPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit WeibullSeriesPlot(QWidget* parent = nullptr);

    void setSeries(const std::vector<WeibullSeriesPoint>& series);
    void clearSeries();

    QCPAxisRect* kRect() const { return m_kRect; }
    QCPAxisRect* lambdaRect() const { return m_lambdaRect; }
    // The line of one component in the k or λ pane, or nullptr.
    QCPGraph* componentGraph(const QString& component, bool lambda) const;

private:
    QCPAxisRect *m_kRect = nullptr, *m_lambdaRect = nullptr;
    QCPItemRect* m_band = nullptr;
    QCPItemStraightLine* m_anchor = nullptr;
    QCPLegend* m_legend = nullptr;
};

}  // namespace attnscope::widgets
