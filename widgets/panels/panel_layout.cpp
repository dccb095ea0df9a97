#include "panels/panel_layout.h"

#include <QSplitter>
#include <QVBoxLayout>

namespace attnscope::widgets {

QSplitter* makeSplitter(Qt::Orientation orientation, QWidget* parent, std::initializer_list<QWidget*> panes,
                        const QList<int>& sizes) {
    auto* split = new QSplitter(orientation, parent);
    for (QWidget* pane : panes) split->addWidget(pane);
    if (!sizes.isEmpty()) split->setSizes(sizes);
    split->setChildrenCollapsible(false);
    return split;
}

QWidget* controlsAbove(QWidget* owner, QLayout* controls, QWidget* body) {
    auto* layout = new QVBoxLayout(owner);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addWidget(body, 1);
    return owner;
}

}  // namespace attnscope::widgets
