// The attention-variants dock: the lab's section (SectionDock: every variant against softmax,
// end to end when asked), plus one head's map pair on the model's worker whenever the panel's
// variant, parameters or head change (Inspector::variantHead). Torch-free header.
#pragma once
#include "section_dock.h"

namespace attnscope::app {

class VariantsDock : public SectionDock {
    Q_OBJECT
public:
    VariantsDock(const PanelHost& host, const QString& id, const QString& title, QObject* parent);

    void onRunDone(const PromptInfo& run) override;
    void cancelRunJobs() override;
};

}  // namespace attnscope::app
