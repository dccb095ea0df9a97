// The Weibull dock: fits of every weight matrix when a model opens (no prompt needed), the
// selected matrix's probability plot, and the checkpoint series (weibull_series_jobs.h).
#pragma once
#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "panel_dock.h"

namespace attnscope::widgets {
class WeibullPanel;
}

namespace attnscope::app {

class WeibullDock : public PanelDock {
    Q_OBJECT
public:
    WeibullDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);

    widgets::WeibullPanel* weibullPanel() const { return m_weibull; }

    void onModelLoaded() override;
    void cancelAll() override;
    void onStoredSession() override { cancelAll(); }

private:
    void requestWeibull(const WeibullParams& params);
    void requestWeibullPlot(const QString& name);

    widgets::WeibullPanel* m_weibull = nullptr;
};

}  // namespace attnscope::app
