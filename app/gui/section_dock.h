// A dock for an analysis whose panel needs no dock code of its own: once a run is done and the
// dock is on screen, it asks the core's analysis registry for the analysis's section (on the
// model's worker) and shows it through the panel's session restore (widgets' PanelRegistry).
// A panel with a signal optionsChanged(QStringList) ("--key", "value", ...) gets the section
// recomputed with those options; one with the property computeOnRequest waits for them. Adding
// such an analysis adds no app code.
#pragma once
#include <QStringList>

#include "attnscope/options.h"
#include "attnscope/session.h"
#include "panel_dock.h"

namespace attnscope::app {

class SectionDock : public PanelDock {
    Q_OBJECT
public:
    SectionDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);

    void onModelLoaded() override;
    void onRunStarted() override;
    void onRunDone(const PromptInfo& run) override;
    void cancelRunJobs() override;
    void onStoredSession() override;

public Q_SLOTS:
    void setOptions(const QStringList& options);

protected:
    // The options the section was (or will be) computed with.
    Options options() const;

private:
    void startIfWanted();

    QStringList m_options;
    Session m_shown;  // what restore reads besides the section: the prompt's tokens
    bool m_haveRun = false, m_done = false;
};

}  // namespace attnscope::app
