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

void compareLayer(const HeadLayerScores& got, const ReferenceScores& want, double tol) {
    QCOMPARE(got.entropy.size(), want.entropy.size());
    for (size_t h = 0; h < want.entropy.size(); ++h) {
        QVERIFY2(std::abs(got.entropy[h] - want.entropy[h]) <= tol, qPrintable(QString("entropy head %1").arg(h)));
        QVERIFY2(std::abs(got.firstToken[h] - want.firstToken[h]) <= tol, qPrintable(QString("first head %1").arg(h)));
        QVERIFY2(std::abs(got.previousToken[h] - want.previous[h]) <= tol, qPrintable(QString("prev head %1").arg(h)));
        QVERIFY2(std::abs(got.diagonal[h] - want.diagonal[h]) <= tol, qPrintable(QString("diag head %1").arg(h)));
    }
}

// Every layer of `trace` against the reference, exact to float rounding.
void compareEveryLayer(const Trace& trace) {
    for (int l = 0; l < trace.nLayers(); ++l)
        compareLayer(computeHeadLayerScores(trace, l), reference(trace, l, 0), 2e-6);
}

}  // namespace

class TestHeadScores : public QObject {
    Q_OBJECT
private slots:
    // Exact over every row, on the CPU statistics pass (T not a multiple of the 256-row tile).
    void matchesTextbookAttention() { compareEveryLayer(*randomRun(3, 300).trace); }

    // Statistics kept from the forward (no second pass over q/k for them): the diagonal comes
    // from the row log-sum-exp path and must equal the same reference.
    void statisticsKeptFromTheForward() {
        RunOptions o;
        o.trace.statsDuringForward = true;
        compareEveryLayer(*randomRun(5, 90, o).trace);
    }

    // Identities: rows sum to one, so Σ_i A[i,i] + Σ_i A[i,i−1] <= T; row 0 attends only to itself.
    void identities() {
        const HeadLayerScores one = computeHeadLayerScores(*randomRun(7, 1).trace, 0);
        for (size_t h = 0; h < one.diagonal.size(); ++h) {
            QCOMPARE(one.diagonal[h], 1.0f);  // a single token attends to itself
            QCOMPARE(one.previousToken[h], 0.0f);
            QVERIFY(std::abs(one.entropy[h]) < 1e-7);
            QCOMPARE(one.firstToken[h], 1.0f);
        }
    }

    // The table over every layer, through the Inspector (its cache returns the same numbers).
    void inspectorTable() {
        Inspector inspector;
        inspector.adopt(randomModel(9));
        inspector.setPrompt(ids(64));
        const HeadScores table = inspector.headScores();
        QCOMPARE(table.nLayers, 2);
        QCOMPARE(table.tokens, int64_t(64));
        QCOMPARE(table.sampledRows, int64_t(64));
        for (int l = 0; l < table.nLayers; ++l) {
            const ReferenceScores want = reference(inspector.trace(), l, 0);
            for (int h = 0; h < table.nHeads; ++h)
                QVERIFY(std::abs(table.diagonal[size_t(l * table.nHeads + h)] - want.diagonal[size_t(h)]) <= 2e-6);
        }
        const HeadLayerScores again = inspector.headScores(1);
        for (int h = 0; h < table.nHeads; ++h) QCOMPARE(again.entropy[size_t(h)], table.entropy[size_t(table.nHeads + h)]);
    }
};

QTEST_GUILESS_MAIN(TestHeadScores)
#include "tst_head_scores.moc"
