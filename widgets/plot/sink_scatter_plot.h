// Across every detected sink: the norm of its MLP output at its creation layer (x) against
// its sink score or its lifetime (y), points coloured by class, with the least-squares line
// and Pearson r (Wong et al.). The data and the fit come from core's sinkMlpScatter.
#pragma once
#include <qcustomplot.h>

#include "attnscope/analyses/sink_scatter.h"

namespace attnscope::widgets {

class SinkScatterPlot : public QCustomPlot {
    Q_OBJECT
public:
    enum class YAxis { Score, Lifetime };
    explicit SinkScatterPlot(QWidget* parent = nullptr);

    void setScatter(const SinkScatter& scatter);
    void setYAxis(YAxis y);
    YAxis yAxisChoice() const { return m_y; }
    const SinkScatter& scatter() const { return m_scatter; }
    QCPGraph* classGraph(SinkClass cls) const;  // primary, secondary or noise points
    QCPGraph* fitGraph() const { return m_fit; }
    QString fitText() const;                    // r and the line, or why there is none

private:
    void redraw();

    SinkScatter m_scatter;
    YAxis m_y = YAxis::Score;
    QCPGraph* m_points[3] = {nullptr, nullptr, nullptr};
    QCPGraph* m_fit = nullptr;
    QCPItemText* m_note = nullptr;  // why there is no r, centred in the plot
};

}  // namespace attnscope::widgets
