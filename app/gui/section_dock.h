// A dock for an analysis that needs no controls of its own: after every run it asks the core's
// analysis registry for the analysis's section (on the model's worker) and shows it through the
// panel's session restore (widgets' PanelRegistry). Adding such an analysis adds no app code.
#pragma once
#include <QStringList>

#include "panel_dock.h"

namespace attnscope::app {

class SectionDock : public PanelDock {
    Q_OBJECT
public:
    SectionDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);

    void onRunDone(const PromptInfo& run) override;
    void cancelRunJobs() override;
};

}  // namespace attnscope::app
