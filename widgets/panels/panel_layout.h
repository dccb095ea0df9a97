// Layout pieces the analysis panels share.
#pragma once
#include <initializer_list>

#include <QList>
#include <Qt>

class QLayout;
class QSplitter;
class QWidget;

namespace attnscope::widgets {

// A splitter of `panes` in order, none of which can be collapsed to nothing; `sizes`, when
// given, are their initial sizes.
QSplitter* makeSplitter(Qt::Orientation orientation, QWidget* parent, std::initializer_list<QWidget*> panes,
                        const QList<int>& sizes = {});

// Lays `owner` out as a row of controls above `body`, which takes the rest (no margins).
// Returns owner.
QWidget* controlsAbove(QWidget* owner, QLayout* controls, QWidget* body);

}  // namespace attnscope::widgets
