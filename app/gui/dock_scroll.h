#pragma once
// A dock's panel inside a scroll area: wide control rows then scroll instead of forcing the
// main window wider than the screen (or than --screenshot's 1600 x 1000).
#include <QFrame>
#include <QScrollArea>

namespace attnscope::app {

inline QWidget* scrollableDockContent(QWidget* panel) {
    auto* area = new QScrollArea;
    area->setWidgetResizable(true);
    area->setFrameShape(QFrame::NoFrame);
    area->setWidget(panel);
    return area;
}

}  // namespace attnscope::app
