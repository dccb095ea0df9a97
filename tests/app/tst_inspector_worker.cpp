// The worker's scheduling: an urgent job (a tile the user waits for) preempts a running
// preemptible analysis, which then runs again from the start and still reports; a cancelled
// or replaced job is never run again; a Normal job is never interrupted.
#include <atomic>
#include <functional>
#include <chrono>
#include <thread>

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStringList>
#include <QTest>

#include "attnscope/error.h"
#include "inspector_worker.h"

using namespace attnscope;
using namespace attnscope::app;

namespace {

using Priority = InspectorWorker::Priority;

InspectorWorker::Job quickJob(QStringList& done, const QString& name) {
    return [&done, name](JobContext&) -> InspectorWorker::GuiApply { return [&done, name] { done << name; }; };
}

bool waitUntil(const std::function<bool()>& cond, int ms = 10000) {
    QElapsedTimer t;
    t.start();
    while (!cond() && t.elapsed() < ms) QTest::qWait(5);
    return cond();
}

// A job that spins until asked to stop (then throws Cancelled), or until released; it
// counts its starts and, when it completes, appends `name` to `done`.
struct Spinner {
    std::atomic<int> starts{0};
    std::atomic<bool> release{false};

    InspectorWorker::Job job(QStringList& done, const QString& name) {
        return [this, &done, name](JobContext& ctx) -> InspectorWorker::GuiApply {
            ++starts;
            while (!release.load()) {
                if (ctx.stop.stop_requested()) fail(ErrorKind::Cancelled, "stopped");
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
            return [&done, name] { done << name; };
        };
    }
    // Posts the job to `w` as `key` and waits until it has started once.
    bool postAndWaitForStart(InspectorWorker& w, const QString& key, QObject* owner, QStringList& done,
                             const QString& name, Priority priority) {
        w.post(key, owner, job(done, name), priority);
        return waitUntil([this] { return starts.load() == 1; });
    }
};

}  // namespace

class TestInspectorWorker : public QObject {
    Q_OBJECT
private slots:
    void urgentJobPreemptsAndAnalysisRunsAgain();
    void cancelledPreemptedJobIsNotRerun();
    void normalJobIsNotInterrupted();
};

void TestInspectorWorker::urgentJobPreemptsAndAnalysisRunsAgain() {
    InspectorWorker w;
    QSignalSpy failed(&w, &InspectorWorker::jobFailed);
    Spinner analysis;
    QStringList done;
    QVERIFY(analysis.postAndWaitForStart(w, "analysis", this, done, "analysis", Priority::Preemptible));
    w.post("tile", this, quickJob(done, "tile"), Priority::Urgent);
    // The tile lands while the analysis would still be spinning, and the analysis restarts.
    QVERIFY(waitUntil([&] { return done.contains("tile"); }));
    QVERIFY(waitUntil([&] { return analysis.starts.load() == 2; }));
    QVERIFY(!done.contains("analysis"));
    analysis.release = true;
    QVERIFY(waitUntil([&] { return done.contains("analysis"); }));
    QCOMPARE(done, (QStringList{"tile", "analysis"}));
    QCOMPARE(failed.count(), 0);  // the preemption is invisible to the GUI
    QVERIFY(!w.isPending("analysis"));
}

void TestInspectorWorker::cancelledPreemptedJobIsNotRerun() {
    InspectorWorker w;
    Spinner analysis, blocker;
    QStringList done;
    QSignalSpy failed(&w, &InspectorWorker::jobFailed);
    QVERIFY(analysis.postAndWaitForStart(w, "analysis", this, done, "analysis", Priority::Preemptible));
    // An urgent job that blocks, so the preempted analysis waits in the queue; cancel it there.
    QVERIFY(blocker.postAndWaitForStart(w, "tile", this, done, "tile", Priority::Urgent));
    w.cancel("analysis");
    blocker.release = true;
    analysis.release = true;
    QVERIFY(waitUntil([&] { return done.contains("tile"); }));
    QTest::qWait(200);
    QCOMPARE(analysis.starts.load(), 1);
    QVERIFY(!done.contains("analysis"));
    QVERIFY(!w.isPending("analysis"));
    // Replaced while running: the old one stops and only the new one runs.
    Spinner old;
    QVERIFY(old.postAndWaitForStart(w, "sweep", this, done, "sweep-old", Priority::Preemptible));
    w.post("sweep", this, quickJob(done, "sweep-new"), Priority::Preemptible);
    QVERIFY(waitUntil([&] { return done.contains("sweep-new"); }));
    QTest::qWait(100);
    QCOMPARE(old.starts.load(), 1);
    QVERIFY(!done.contains("sweep-old"));
}

void TestInspectorWorker::normalJobIsNotInterrupted() {
    InspectorWorker w;
    Spinner run;
    QStringList done;
    QVERIFY(run.postAndWaitForStart(w, "run", this, done, "run", Priority::Normal));
    w.post("tile", this, quickJob(done, "tile"), Priority::Urgent);
    QTest::qWait(100);
    QVERIFY(done.isEmpty());  // the tile waits for the run
    run.release = true;
    QVERIFY(waitUntil([&] { return done.size() == 2; }));
    QCOMPARE(done, (QStringList{"run", "tile"}));
    QCOMPARE(run.starts.load(), 1);
}

QTEST_MAIN(TestInspectorWorker)
#include "tst_inspector_worker.moc"
