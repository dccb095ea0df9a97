// Qt metatypes for core's plain view types and the widgets' own value types. They are
// declared here, not in core, so that core stays Qt-free.
#pragma once
#include <QMetaType>

#include "attnscope/model.h"
#include "attnscope/views.h"
#include "plot/attention_heatmap.h"  // declares HeatmapCell and HeatmapExtent

Q_DECLARE_METATYPE(attnscope::Matrix2D)
Q_DECLARE_METATYPE(attnscope::TokenStrip)
Q_DECLARE_METATYPE(attnscope::Series)
Q_DECLARE_METATYPE(attnscope::ModelInfo)

namespace attnscope::widgets {

// Registers the types above for queued connections and QVariant; call once at start-up.
void registerMetaTypes();

}  // namespace attnscope::widgets
