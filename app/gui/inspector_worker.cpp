#include "inspector_worker.h"

#include <algorithm>
#include <new>

#include <QThread>

#include "attnscope/error.h"

namespace attnscope::app {

InspectorWorker::InspectorWorker(QObject* parent) : QObject(parent) {
    m_thread = QThread::create([this] { runLoop(); });
    m_thread->setObjectName(QStringLiteral("attnscope-inspector"));
    m_thread->start();
}

InspectorWorker::~InspectorWorker() {
    {
        std::lock_guard lock(m_mutex);
        m_quit = true;
        m_queue.clear();
        if (m_running) m_running->stop.request_stop();
    }
    m_wake.notify_all();
    m_thread->wait();  // the model is destroyed on its own thread before we go
    delete m_thread;
}

namespace {

template <class Queue>
auto firstNonUrgent(Queue& queue) {
    return std::find_if(queue.begin(), queue.end(), [](const auto& p) { return p.priority != InspectorWorker::Priority::Urgent; });
}

}  // namespace

quint64 InspectorWorker::post(const QString& tag, QObject* context, Job job, Priority priority) {
    const quint64 id = m_nextId++;
    m_latest[tag] = id;
    m_pending[tag] = id;
    const bool urgent = priority == Priority::Urgent;
    Pending pending{tag, id, context ? context : this, std::move(job), {}, priority};
    {
        std::lock_guard lock(m_mutex);
        std::erase_if(m_queue, [&](const Pending& p) { return p.tag == tag; });
        if (m_running && m_running->tag == tag) {
            m_running->superseded = true;
            m_running->stop.request_stop();
        } else if (m_running && urgent && m_running->preemptible && !m_running->preempted) {
            m_running->preempted = true;
            m_running->stop.request_stop();
        }
        m_queue.insert(urgent ? firstNonUrgent(m_queue) : m_queue.end(), std::move(pending));
    }
    m_wake.notify_one();
    return id;
}

void InspectorWorker::cancel(const QString& tag) {
    m_latest[tag] = m_nextId++;  // no job posted so far is current any more
    m_pending.remove(tag);
    std::lock_guard lock(m_mutex);
    std::erase_if(m_queue, [&](const Pending& p) { return p.tag == tag; });
    if (m_running && m_running->tag == tag) {
        m_running->superseded = true;
        m_running->stop.request_stop();
    }
}

bool InspectorWorker::isCurrent(const QString& tag, quint64 id) const {
    return m_latest.value(tag) == id;
}

void InspectorWorker::runLoop() {
    WorkerState state;  // created and destroyed on this thread
    for (;;) {
        Pending pending;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_quit || !m_queue.empty(); });
            if (m_quit) break;
            pending = std::move(m_queue.front());
            m_queue.pop_front();
            m_running = Running{pending.tag, pending.stop, pending.priority == Priority::Preemptible};
        }
        runOne(pending, state);
        std::lock_guard lock(m_mutex);
        m_running.reset();
    }
}

void InspectorWorker::runOne(Pending& pending, WorkerState& state) {
    const QString tag = pending.tag;
    deliver(pending, [this, tag] { emit jobStarted(tag); });

    // Progress arrives from deep inside a forward pass; forward only whole percents.
    auto last = std::make_shared<double>(-1.0);
    auto progress = [this, &pending, tag, last](double f) {
        if (f < *last + 0.01 && f < 1.0) return;
        *last = f;
        deliver(pending, [this, tag, f] { emit jobProgress(tag, f); });
    };
    JobContext context{state, pending.stop.get_token(), progress};

    QString message;
    bool cancelled = false;
    try {
        GuiApply apply = pending.job(context);
        const quint64 id = pending.id;
        deliver(pending, [this, tag, id, apply = std::move(apply)] {
            if (apply) apply();
            if (m_pending.value(tag) == id) m_pending.remove(tag);
            emit jobFinished(tag);
        });
        return;
    } catch (const Error& e) {
        message = QString::fromStdString(e.what());
        cancelled = e.kind() == ErrorKind::Cancelled;
    } catch (const std::bad_alloc&) {
        message = tr("Out of memory");
    } catch (const std::exception& e) {
        message = QString::fromStdString(e.what());
    } catch (...) {
        message = tr("Unknown error");
    }
    if (requeueIfPreempted(pending)) return;
    cancelled = cancelled || pending.stop.stop_requested();
    const quint64 id = pending.id;
    deliver(pending, [this, tag, id, message, cancelled] {
        if (m_pending.value(tag) == id) m_pending.remove(tag);
        emit jobFailed(tag, message, cancelled);
        emit jobFinished(tag);
    });
}

bool InspectorWorker::requeueIfPreempted(Pending& pending) {
    std::lock_guard lock(m_mutex);
    if (m_quit || !m_running || !m_running->preempted || m_running->superseded) return false;
    pending.stop = std::stop_source();
    m_queue.insert(firstNonUrgent(m_queue), std::move(pending));
    return true;  // runLoop resets m_running; the wait sees the queue non-empty
}

void InspectorWorker::deliver(const Pending& pending, std::function<void()> fn) {
    // Posted to this object, which lives on the GUI thread and outlives the worker.
    QMetaObject::invokeMethod(
        this,
        [this, context = pending.context, tag = pending.tag, id = pending.id, fn = std::move(fn)] {
            if (context && isCurrent(tag, id)) fn();
        },
        Qt::QueuedConnection);
}

}  // namespace attnscope::app
