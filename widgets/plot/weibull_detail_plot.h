// One matrix's Weibull fit in two panes: the probability plot (ln(-ln(1-F)) against ln|w|
// with the fitted line and the trimmed window shaded) and the histogram of log10|w| with
// the fitted Weibull's expected counts.
#pragma once
#include <qcustomplot.h>

#include "attnscope/analyses/weibull.h"  // plain structs only

namespace attnscope::widgets {

class WeibullDetailPlot : public QCustomPlot {
    Q_OBJECT
public:
    explicit WeibullDetailPlot(QWidget* parent = nullptr);

    void setData(const WeibullPlot& plot, const WeibullResult& fit, const QString& title);
    void clearData();
    // What setData was last given (sessions store it); title empty after clearData.
    const WeibullPlot& data() const { return m_data; }
    const QString& dataTitle() const { return m_dataTitle; }

    QCPAxisRect* probabilityRect() const { return m_probRect; }
    QCPAxisRect* histogramRect() const { return m_histRect; }

private:
    QCPAxisRect *m_probRect = nullptr, *m_histRect = nullptr;
    QCPItemText* m_title = nullptr;
    QCPGraph *m_points = nullptr, *m_line = nullptr;
    QCPBars* m_hist = nullptr;
    QCPGraph* m_density = nullptr;
    QCPItemRect* m_window = nullptr;
    WeibullPlot m_data;
    QString m_dataTitle;
};

}  // namespace attnscope::widgets
