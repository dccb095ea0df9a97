#include "metatypes.h"

namespace attnscope::widgets {

void registerMetaTypes() {
    qRegisterMetaType<attnscope::Matrix2D>();
    qRegisterMetaType<attnscope::TokenStrip>();
    qRegisterMetaType<attnscope::Series>();
    qRegisterMetaType<attnscope::ModelInfo>();
    qRegisterMetaType<HeatmapCell>();
    qRegisterMetaType<HeatmapExtent>();
}

}  // namespace attnscope::widgets
