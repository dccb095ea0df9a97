// One thread owns the model and its last trace (torch device and stream state is per
// thread). The GUI posts jobs by tag; it never blocks on them and never touches the model.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>

#include "attnscope/inspector.h"

class QThread;

namespace attnscope::app {

// Lives on the worker thread only: the core's Inspector (the model, the prompt's traces and
// every analysis).
struct WorkerState {
    Inspector inspector;
};

// What a job gets while it runs on the worker.
struct JobContext {
    WorkerState& state;
    std::stop_token stop;
    std::function<void(double)> progress;  // fraction done; thread-safe, throttled

    Inspector& inspector() { return state.inspector; }
    JobControl job() const { return {stop, progress}; }
};

class InspectorWorker : public QObject {
    Q_OBJECT
public:
    // Runs on the GUI thread with the job's result, if still wanted.
    using GuiApply = std::function<void()>;
    // Runs on the worker; may throw (attnscope::Error is reported with its message).
    using Job = std::function<GuiApply(JobContext&)>;

    explicit InspectorWorker(QObject* parent = nullptr);
    ~InspectorWorker() override;  // stops the running job and joins the thread

    // How a job is scheduled: urgent jobs (what the user is looking at) go ahead of every
    // queued non-urgent one; a preemptible background job (an analysis) that is running when
    // an urgent one arrives is asked to stop and, if it stops, runs again from the start
    // after the urgent jobs, so a tile never waits for a whole analysis. Preemptible jobs
    // must be safe to run twice (no moved-from captures, no side effects before they return).
    enum class Priority { Normal, Urgent, Preemptible };

    // Queues `job`. A queued job with the same tag is dropped and a running one is asked
    // to stop: only the newest job of a tag reports back. Its GuiApply and signals reach
    // the GUI only while `context` is alive. Returns the job id.
    quint64 post(const QString& tag, QObject* context, Job job, Priority priority = Priority::Normal);
    // Drops queued jobs of `tag`, asks the running one to stop, and silences them.
    void cancel(const QString& tag);
    // Whether a job of `tag` is queued or running and still wanted.
    bool isPending(const QString& tag) const { return m_pending.contains(tag); }

signals:
    void jobStarted(const QString& tag);
    void jobProgress(const QString& tag, double fraction);
    void jobFailed(const QString& tag, const QString& message, bool cancelled);
    void jobFinished(const QString& tag);  // after the GuiApply or jobFailed

private:
    struct Pending {
        QString tag;
        quint64 id = 0;
        QPointer<QObject> context;
        Job job;
        std::stop_source stop;
        Priority priority = Priority::Normal;
    };
    struct Running {
        QString tag;
        std::stop_source stop;
        bool preemptible = false;
        bool preempted = false;   // stopped for an urgent job: to be run again
        bool superseded = false;  // cancelled or replaced by a newer job of its tag
    };

    void runLoop();
    void runOne(Pending& pending, WorkerState& state);
    // After a job stopped early: puts a preempted job back ahead of the other background
    // jobs and returns true, or returns false when the stop was a real cancel.
    bool requeueIfPreempted(Pending& pending);
    // Queues `fn` to the GUI thread; it runs only if the job is still current and its
    // context alive.
    void deliver(const Pending& pending, std::function<void()> fn);
    bool isCurrent(const QString& tag, quint64 id) const;

    QThread* m_thread = nullptr;

    // Shared with the worker thread, under m_mutex.
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Pending> m_queue;
    std::optional<Running> m_running;
    bool m_quit = false;

    // GUI thread only.
    quint64 m_nextId = 1;
    QHash<QString, quint64> m_latest;   // newest id per tag: older results are dropped
    QHash<QString, quint64> m_pending;  // tags with a wanted job not yet finished
};

}  // namespace attnscope::app
