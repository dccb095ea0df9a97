// The head grid dock: every layer x head scored (core's exact head scores) layer by layer on
// the model's worker, so re-classifications queued meanwhile wait for one layer at most.
#pragma once
#include <QElapsedTimer>

#include "models/head_scores.h"
#include "panel_dock.h"

namespace attnscope::widgets {
class HeadGridPanel;
}

namespace attnscope::app {

class HeadsDock : public PanelDock {
    Q_OBJECT
public:
    HeadsDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);

    widgets::HeadGridPanel* gridPanel() const { return m_heads; }

    void onRunStarted() override;
    void onRunDone(const PromptInfo& run) override;
    void cancelRunJobs() override;

private:
    void requestHeadScores(int layer);  // then the next layer, until all are scored

    widgets::HeadGridPanel* m_heads = nullptr;
    widgets::HeadScoreTable m_headScores;  // filled layer by layer
    int m_runLayers = 0, m_runHeads = 0;
    int64_t m_runTokens = 0;
    QElapsedTimer m_headClock;
};

}  // namespace attnscope::app
