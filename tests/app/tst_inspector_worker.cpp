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

// A job that spins until asked to stop (then throws Cancelled), or until `release` is set.
InspectorWorker::Job spinJob(std::atomic<int>& starts, std::atomic<bool>& release, QStringList& done,
                             const QString& name) {
    return [&starts, &release, &done, name](JobContext& ctx) -> InspectorWorker::GuiApply {
        ++starts;
        while (!release.load()) {
            if (ctx.stop.stop_requested()) fail(ErrorKind::Cancelled, "stopped");
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return [&done, name] { done << name; };
    };
}

InspectorWorker::Job quickJob(QStringList& done, const QString& name) {
    return [&done, name](JobContext&) -> InspectorWorker::GuiApply { return [&done, name] { done << name; }; };
}

bool waitUntil(const std::function<bool()>& cond, int ms = 10000) {
    QElapsedTimer t;
    t.start();
    while (!cond() && t.elapsed() < ms) QTest::qWait(5);
    return cond();
}

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
    std::atomic<int> starts{0};
    std::atomic<bool> release{false};
    QStringList done;
    w.post("analysis", this, spinJob(starts, release, done, "analysis"), Priority::Preemptible);
    QVERIFY(waitUntil([&] { return starts.load() == 1; }));
    w.post("tile", this, quickJob(done, "tile"), Priority::Urgent);
    // The tile lands while the analysis would still be spinning, and the analysis restarts.
    QVERIFY(waitUntil([&] { return done.contains("tile"); }));
    QVERIFY(waitUntil([&] { return starts.load() == 2; }));
    QVERIFY(!done.contains("analysis"));
    release = true;
    QVERIFY(waitUntil([&] { return done.contains("analysis"); }));
    QCOMPARE(done, (QStringList{"tile", "analysis"}));
    QCOMPARE(failed.count(), 0);  // the preemption is invisible to the GUI
    QVERIFY(!w.isPending("analysis"));
}

void TestInspectorWorker::cancelledPreemptedJobIsNotRerun() {
    InspectorWorker w;
    std::atomic<int> starts{0}, blockerStarts{0};
    std::atomic<bool> release{false}, releaseBlocker{false};
    QStringList done;
    QSignalSpy failed(&w, &InspectorWorker::jobFailed);
    w.post("analysis", this, spinJob(starts, release, done, "analysis"), Priority::Preemptible);
    QVERIFY(waitUntil([&] { return starts.load() == 1; }));
    // An urgent job that blocks, so the preempted analysis waits in the queue; cancel it there.
    w.post("tile", this, spinJob(blockerStarts, releaseBlocker, done, "tile"), Priority::Urgent);
    QVERIFY(waitUntil([&] { return blockerStarts.load() == 1; }));
    w.cancel("analysis");
    releaseBlocker = true;
    release = true;
    QVERIFY(waitUntil([&] { return done.contains("tile"); }));
    QTest::qWait(200);
    QCOMPARE(starts.load(), 1);
    QVERIFY(!done.contains("analysis"));
    QVERIFY(!w.isPending("analysis"));
    // Replaced while running: the old one stops and only the new one runs.
    std::atomic<int> s2{0};
    std::atomic<bool> r2{false};
    w.post("sweep", this, spinJob(s2, r2, done, "sweep-old"), Priority::Preemptible);
    QVERIFY(waitUntil([&] { return s2.load() == 1; }));
    w.post("sweep", this, quickJob(done, "sweep-new"), Priority::Preemptible);
    QVERIFY(waitUntil([&] { return done.contains("sweep-new"); }));
    QTest::qWait(100);
    QCOMPARE(s2.load(), 1);
    QVERIFY(!done.contains("sweep-old"));
}

void TestInspectorWorker::normalJobIsNotInterrupted() {
    InspectorWorker w;
    std::atomic<int> starts{0};
    std::atomic<bool> release{false};
    QStringList done;
    w.post("run", this, spinJob(starts, release, done, "run"), Priority::Normal);
    QVERIFY(waitUntil([&] { return starts.load() == 1; }));
    w.post("tile", this, quickJob(done, "tile"), Priority::Urgent);
    QTest::qWait(100);
    QVERIFY(done.isEmpty());  // the tile waits for the run
    release = true;
    QVERIFY(waitUntil([&] { return done.size() == 2; }));
    QCOMPARE(done, (QStringList{"run", "tile"}));
    QCOMPARE(starts.load(), 1);
}

QTEST_MAIN(TestInspectorWorker)
#include "tst_inspector_worker.moc"
