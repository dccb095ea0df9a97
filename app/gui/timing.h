// Timings of the analyses, off by default: QT_LOGGING_RULES="attnscope.timing.info=true".
#pragma once
#include <chrono>

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcTiming)

namespace attnscope::app {

inline double msSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace attnscope::app
