// Every fuzzing finding (fuzz/, scripts/fuzz-smoke.sh) as a regression test: the input that
// found it, rebuilt from the seed it was mutated from (fuzz/session_seeds.h), must now be
// rejected with attnscope::Error(BadInput).
#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>

#include "../../../fuzz/session_seeds.h"
#include "attnscope/error.h"
#include "attnscope/session_codecs.h"

using namespace attnscope;

class TestFuzzRegressions : public QObject {
    Q_OBJECT
private slots:
    void weibullCountsMustBeCounts_data();
    void weibullCountsMustBeCounts();
};

void TestFuzzRegressions::weibullCountsMustBeCounts_data() {
    QTest::addColumn<int>("column");  // n_values, n_fit, n_dropped
    QTest::addColumn<double>("value");
    // fuzz_session: a fits.values cell of 2.2474e+174 reached uint64_t(double) (UBSan:
    // "outside the range of representable values of type 'unsigned long'").
    QTest::newRow("n_values 2.2e174") << 5 << 2.2474e174;
    QTest::newRow("n_fit 2^64") << 6 << 18446744073709551616.0;
    QTest::newRow("n_dropped -1") << 7 << -1.0;
    QTest::newRow("n_values NaN") << 5 << std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("n_fit inf") << 6 << std::numeric_limits<double>::infinity();
    QTest::newRow("n_dropped 2.5") << 7 << 2.5;
}

void TestFuzzRegressions::weibullCountsMustBeCounts() {
    QFETCH(int, column);
    QFETCH(double, value);
    SessionSection s = encodeWeibull(fuzz::weibullSeed());            // the seed fuzz_session mutated
    QCOMPARE(decodeWeibull(s).fits.at(0).fit.nValues, uint64_t(32));  // the unmodified section decodes
    SessionTensor& t = s.tensors.at("fits.values");
    QCOMPARE(t.bytes.size(), size_t(18 * 8));
    std::memcpy(t.bytes.data() + size_t(column) * 8, &value, 8);
    try {
        decodeWeibull(s);
        QFAIL("accepted a count that is no count");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::BadInput);
        QVERIFY2(std::string(e.what()).find("not a count") != std::string::npos, e.what());
    }
}

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "tst_fuzz_regressions.moc"
