// The head grid's scores against the textbook formula: attention materialized in double
// precision from the trace's own q and k (head_scores_reference.h), then A[i,i], A[i,i−1],
// −Σ p ln p and the causal mean of A[i,0] averaged as head_scores.h defines them. Covers the
// CPU statistics pass, the row log-sum-exp path that statistics kept from the forward take
// (the one CUDA traces use too), GQA, and the Inspector's cache.
#include <QtTest>

#include <cmath>

#include "attnscope/analyses/head_scores.h"
#include "attnscope/error.h"
#include "attnscope/inspector.h"
#include "attnscope/model.h"
#include "head_scores_reference.h"

using namespace attnscope;
using namespace headref;

namespace {

const HeadDetectorParams kStats = [] {
    HeadDetectorParams p;
    p.detectors = {"entropy", "first_token", "previous_token", "diagonal"};
    return p;
}();

float at(const HeadLayerScores& s, const char* id, int h) {
    for (size_t d = 0; d < s.infos.size(); ++d)
        if (s.infos[d].id == id) return s.values[d][size_t(h)];
    qFatal("detector %s not computed", id);
}

void compareLayer(const HeadLayerScores& got, const ReferenceScores& want, double tol) {
    QCOMPARE(got.infos.size(), size_t(4));
    for (int h = 0; h < int(want.entropy.size()); ++h) {
        const size_t i = size_t(h);
        QVERIFY2(std::abs(at(got, "entropy", h) - want.entropy[i]) <= tol,
                 qPrintable(QString("entropy head %1").arg(h)));
        QVERIFY2(std::abs(at(got, "first_token", h) - want.firstToken[i]) <= tol,
                 qPrintable(QString("first head %1").arg(h)));
        QVERIFY2(std::abs(at(got, "previous_token", h) - want.previous[i]) <= tol,
                 qPrintable(QString("prev head %1").arg(h)));
        QVERIFY2(std::abs(at(got, "diagonal", h) - want.diagonal[i]) <= tol,
                 qPrintable(QString("diag head %1").arg(h)));
    }
}

// Every layer of the prompt ids(n) on randomModel(seed), traced with `policy`, against the reference.
void compareEveryLayer(uint64_t seed, int n, const TracePolicy& policy = viewTracePolicy()) {
    Inspector inspector;
    inspector.adopt(randomModel(seed));
    inspector.setPrompt(ids(n), {}, policy);
    for (int l = 0; l < inspector.trace().nLayers(); ++l)
        compareLayer(inspector.headScores(l, kStats), reference(inspector.trace(), l, 0), 2e-6);
}

}  // namespace

class TestHeadScores : public QObject {
    Q_OBJECT
private slots:
    // Exact over every row, on the CPU statistics pass (T not a multiple of the 256-row tile).
    void matchesTextbookAttention() { compareEveryLayer(3, 300); }

    // Statistics kept from the forward (no second pass over q/k for them): the diagonal comes
    // from the row log-sum-exp path and must equal the same reference.
    void statisticsKeptFromTheForward() {
        TracePolicy p = viewTracePolicy();
        p.statsDuringForward = true;
        compareEveryLayer(5, 90, p);
    }

    // Identities: row 0 attends only to itself.
    void identities() {
        Inspector inspector;
        inspector.adopt(randomModel(7));
        inspector.setPrompt(ids(1));
        const HeadLayerScores one = inspector.headScores(0, kStats);
        for (int h = 0; h < 4; ++h) {
            QCOMPARE(at(one, "diagonal", h), 1.0f);  // a single token attends to itself
            QCOMPARE(at(one, "previous_token", h), 0.0f);
            QVERIFY(std::abs(at(one, "entropy", h)) < 1e-7);
            QCOMPARE(at(one, "first_token", h), 1.0f);
        }
    }

    // The table over every layer equals the layers one by one (the GUI's path).
    void inspectorTable() {
        Inspector inspector;
        inspector.adopt(randomModel(9));
        inspector.setPrompt(ids(64));
        const HeadScores table = inspector.headScores(kStats);
        QCOMPARE(table.nLayers, 2);
        QCOMPARE(table.tokens, int64_t(64));
        QCOMPARE(table.sampledRows, int64_t(64));
        for (int l = 0; l < table.nLayers; ++l) {
            const ReferenceScores want = reference(inspector.trace(), l, 0);
            for (int h = 0; h < table.nHeads; ++h)
                QVERIFY(std::abs((*table.find("diagonal"))[size_t(l * table.nHeads + h)] - want.diagonal[size_t(h)]) <=
                        2e-6);
        }
        const HeadLayerScores again = inspector.headScores(1, kStats);
        for (int h = 0; h < table.nHeads; ++h)
            QCOMPARE(at(again, "entropy", h), (*table.find("entropy"))[size_t(table.nHeads + h)]);
    }
};

QTEST_GUILESS_MAIN(TestHeadScores)
#include "tst_head_scores.moc"
