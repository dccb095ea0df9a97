// The Weibull panel's checkpoint-series tab: where the checkpoints come from (the loaded
// model's own series, or a directory the user picks) and k and λ against training step.
#pragma once
#include <vector>

#include <QWidget>

#include "attnscope/analyses/weibull_series.h"

class QLabel;
class QPushButton;

namespace attnscope::widgets {

class WeibullSeriesPlot;

class WeibullSeriesView : public QWidget {
    Q_OBJECT
public:
    explicit WeibullSeriesView(QWidget* parent = nullptr);

    void setSeries(const std::vector<WeibullSeriesPoint>& series, const QString& source);
    void setStatus(const QString& text);
    void clear();
    const std::vector<WeibullSeriesPoint>& series() const { return m_series; }
    // The directory last asked for ("" = the loaded model's series), for re-fits.
    QString source() const { return m_source; }
    WeibullSeriesPlot* plot() const { return m_plot; }

public slots:
    // Ask for the checkpoints in `directory` (empty: the loaded model's series).
    void request(const QString& directory);

signals:
    void requested(const QString& directory);
    void seriesShown();  // after setSeries

private:
    void chooseDirectory();

    std::vector<WeibullSeriesPoint> m_series;
    QString m_source;
    QLabel* m_status = nullptr;
    QPushButton *m_own = nullptr, *m_pick = nullptr;
    WeibullSeriesPlot* m_plot = nullptr;
};

}  // namespace attnscope::widgets
