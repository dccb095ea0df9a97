// How a caller follows and stops long work: one mechanism for every analysis. The Inspector
// and the analyses it reaches take a JobControl; the GUI's worker fills it from its job, the
// CLI leaves it empty.
#pragma once
#include <functional>
#include <stop_token>

namespace attnscope {

struct JobControl {
    JobControl() = default;
    // Implicit from a bare stop token: a job that reports no progress.
    JobControl(std::stop_token s, std::function<void(double)> p = {}) : stop(std::move(s)), progress(std::move(p)) {}

    std::stop_token stop;
    std::function<void(double)> progress;  // fraction done in [0, 1], from the running thread

    bool stopRequested() const { return stop.stop_requested(); }
    // Throws Error(Cancelled) when a stop was requested.
    void check() const;
    void report(double fraction) const {
        if (progress) progress(fraction);
    }
    // The same stop; progress mapped into [from, to] of this job's fraction.
    JobControl part(double from, double to) const;
};

}  // namespace attnscope
