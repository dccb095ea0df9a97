// Attention entropy by layer against the textbook formula (head_scores_reference.h): each
// row's −Σ p ln p averaged over heads, bounded by ln(i + 1); the layer means; the codec round
// trip and a section whose shapes do not match.
#include <QtTest>

#include <cmath>

#include "attnscope/analyses/entropy.h"
#include "attnscope/error.h"
#include "head_scores_reference.h"

using namespace attnscope;
using namespace headref;
using testmodels::ModelRun;

class TestEntropyProfile : public QObject {
    Q_OBJECT
private slots:
    // Entropy by layer: per-row entropy averaged over heads, bounded by ln(i + 1); codec round trip.
    void matchesTextbookAttention() {
        const ModelRun run = randomRun(11, 120);
        const EntropyProfile e = computeEntropyProfile(*run.trace);
        QCOMPARE(e.nLayers, 2);
        for (int l = 0; l < e.nLayers; ++l) {
            const ReferenceScores want = reference(*run.trace, l, 0);
            double mean = 0;
            for (int64_t i = 0; i < e.tokens; ++i) {
                QVERIFY(std::abs(e.at(l, i) - want.rowEntropy[size_t(i)]) <= 2e-6);
                QVERIFY(e.at(l, i) <= std::log(double(i + 1)) + 1e-6);
                mean += want.rowEntropy[size_t(i)] / double(e.tokens);
            }
            QVERIFY(std::abs(e.layerMean[size_t(l)] - mean) <= 2e-6);
        }
        const EntropyProfile back = decodeEntropyProfile(encodeEntropyProfile(e));
        QCOMPARE(back.entropy, e.entropy);
        QCOMPARE(back.layerMean, e.layerMean);
        SessionSection bad = encodeEntropyProfile(e);
        bad.params["tokens"] = 7;  // shapes no longer match
        QVERIFY_THROWS_EXCEPTION(Error, decodeEntropyProfile(bad));
    }
};

QTEST_GUILESS_MAIN(TestEntropyProfile)
#include "tst_entropy_profile.moc"
