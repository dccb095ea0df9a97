#include "panels/panel_layout.h"

#include <QSplitter>

namespace attnscope::widgets {

QSplitter* makeSplitter(Qt::Orientation orientation, QWidget* parent, std::initializer_list<QWidget*> panes,
                        const QList<int>& sizes) {
    auto* split = new QSplitter(orientation, parent);
    for (QWidget* pane : panes) split->addWidget(pane);
    if (!sizes.isEmpty()) split->setSizes(sizes);
    split->setChildrenCollapsible(false);
    return split;
}

}  // namespace attnscope::widgets
