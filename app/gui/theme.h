// Light and dark palettes for the whole application (Fusion style, so palettes apply
// the same on every platform).
#pragma once

namespace attnscope::app {

void applyTheme(bool dark);

}  // namespace attnscope::app
