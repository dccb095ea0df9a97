// The Weibull panel's checkpoint series on the model's worker: fits every checkpoint of
// the loaded model's series (or of a directory the user picked) in the background and
// re-fits when the protocol or trim changes.
#pragma once
#include <QObject>
#include <QString>

namespace attnscope::widgets {
class WeibullPanel;
}

namespace attnscope::app {

class InspectorWorker;

class WeibullSeriesJobs : public QObject {
    Q_OBJECT
public:
    WeibullSeriesJobs(InspectorWorker* worker, widgets::WeibullPanel* panel, QObject* parent = nullptr);

    // Fit the checkpoints in `directory` ("" = the loaded model's series).
    void request(const QString& directory);
    void cancel();

private:
    InspectorWorker* m_worker;
    widgets::WeibullPanel* m_panel;
};

}  // namespace attnscope::app
