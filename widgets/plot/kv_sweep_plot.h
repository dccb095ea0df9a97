// Fidelity against KV budget for several policies on one plot: one curve per policy, budget
// on a log2 axis, a legend beside the data, the plot menu and the theme.
#pragma once
#include <vector>

#include <qcustomplot.h>

#include "attnscope/views.h"

namespace attnscope::widgets {

class KvSweepPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit KvSweepPlot(QWidget* parent = nullptr);

    void setSeries(const std::vector<Series>& series, const QString& valueTitle);
    void setLogValues(bool log);  // non-positive values are then left out
    void clearSeries();
    int seriesCount() const { return graphCount(); }
};

}  // namespace attnscope::widgets
