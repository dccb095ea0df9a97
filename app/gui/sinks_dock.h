// The attention-sinks dock: statistics on the model's worker (cached by the Inspector), the
// pure re-classification of parameter drags on a thread of its own. Torch-free header.
#pragma once
#include <memory>

#include <QElapsedTimer>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "panel_dock.h"

namespace attnscope::widgets {
class SinksPanel;
}

namespace attnscope::app {

struct SinkJobResult;

class SinksDock : public PanelDock {
    Q_OBJECT
public:
    SinksDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);

    widgets::SinksPanel* sinksPanel() const { return m_sinks; }

    void onRunStarted() override;
    void onRunDone(const PromptInfo& run) override;
    void cancelRunJobs() override;
    void onStoredSession() override;

private:
    void requestSinks(const SinkParams& params);
    void showSinks(const SinkJobResult& out, const QElapsedTimer& clock);
    void onJobFailed(const QString& tag, const QString& message, bool cancelled);

    InspectorWorker* m_classifier = nullptr;  // re-classifies: never waits behind model work
    widgets::SinksPanel* m_sinks = nullptr;
    bool m_haveTrace = false;
    std::shared_ptr<const SinkInputs> m_sinkInputs;  // statistics of the current trace
    bool m_sinkInputsPending = false;                // a statistics job is queued or running ...
    int64_t m_pendingMinQuery = -1;                  // ... for this minimum query position
    SinkParams m_sinkParams;                         // the newest parameters asked for
};

}  // namespace attnscope::app
