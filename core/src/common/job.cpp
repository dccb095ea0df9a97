#include "attnscope/job.h"

#include "attnscope/error.h"

namespace attnscope {

void JobControl::check() const {
    if (stop.stop_requested()) fail(ErrorKind::Cancelled, "Cancelled");
}

JobControl JobControl::part(double from, double to) const {
    JobControl sub;
    sub.stop = stop;
    if (progress) sub.progress = [p = progress, from, to](double f) { p(from + (to - from) * f); };
    return sub;
}

}  // namespace attnscope
