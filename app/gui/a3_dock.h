// The A^3 dock: the sweep as a section (SectionDock), plus the end-to-end evaluation of a rank
// profile on the model's worker (Inspector::a3EndToEnd). Torch-free header.
#pragma once
#include "section_dock.h"

namespace attnscope::app {

class A3Dock : public SectionDock {
    Q_OBJECT
public:
    A3Dock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);

    void cancelRunJobs() override;
    void onModelLoaded() override;  // a new model has its original weights
};

}  // namespace attnscope::app
