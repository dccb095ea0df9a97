// The attention-variants panel through the real main window (worker, dock, panel), offscreen:
// the section arrives with every registered variant and its end-to-end run, and a pick plus a
// parameter edit in the panel come back as that head's map pair from the worker, with the
// top-k map keeping min(i+1, k) keys per row and its TV to softmax equal to the mass it drops
// (reference B.7).
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "app_window_support.h"
#include "main_window.h"
#include "panels/variants_panel.h"
#include "selection_model.h"

using attnscope::app::MainWindow;
using namespace attnscope;

class TestVariantsDock : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void sectionThenLiveEdits() {
        const QString dir = apptest::defaultModelDir();
        if (!QFileInfo::exists(dir + "/config.json")) QSKIP("built-in model absent");
        MainWindow w(false);
        QSignalSpy shown(&w, &MainWindow::panelShown);
        apptest::openBuiltIn(w,
                             QStringLiteral("Call me Ishmael. Some years ago, never mind how long precisely, having "
                                            "little or no money in my purse, I thought I would sail about a little."),
                             QStringLiteral("variants"));
        QTRY_VERIFY_WITH_TIMEOUT(apptest::timesShown(shown, QStringLiteral("variants")) >= 1, 300000);
        auto* panel = w.findChild<widgets::VariantsPanel*>();
        QVERIFY(panel && panel->hasResult());
        const VariantsResult& r = panel->result();
        QCOMPARE(r.variants.size(), variantInfos().size());  // every registered variant
        for (const VariantRun& v : r.variants)
            QVERIFY2(v.hasEndToEnd && int64_t(v.endToEnd.kl.size()) == r.tokens, v.name.c_str());
        QVERIFY(r.hasPair);

        QComboBox* picker = nullptr;
        for (QComboBox* c : panel->findChildren<QComboBox*>())
            if (c->findData(QStringLiteral("topk")) >= 0) picker = c;
        QVERIFY(picker);
        picker->setCurrentIndex(picker->findData(QStringLiteral("topk")));
        QDoubleSpinBox* k = nullptr;
        QTRY_VERIFY((k = panel->findChild<QDoubleSpinBox*>(QStringLiteral("k"))) != nullptr);
        k->setValue(3);
        QTRY_VERIFY_WITH_TIMEOUT(panel->result().pair.name == "topk" && panel->result().pair.params.count("k") &&
                                     panel->result().pair.params.at("k") == 3.0,
                                 60000);
        const VariantHeadPair& p = panel->result().pair;
        QCOMPARE(p.T, r.tokens);
        for (int64_t i = 0; i < p.T; ++i) {
            int kept = 0;
            for (int64_t j = 0; j < p.T; ++j) kept += p.variant.map[size_t(i * p.T + j)] != 0;
            QCOMPARE(kept, int(std::min<int64_t>(i + 1, 3)));
        }
        QVERIFY(std::abs(p.metrics.rowTvMean - (1 - p.metrics.keptMass)) < 1e-9);

        // The explorer's selection moves the panel: layer 3, head 5 -> that head's pair, and the
        // layer's section computed again.
        w.selection()->setLayerHead(3, 5);
        QTRY_VERIFY_WITH_TIMEOUT(panel->result().layer == 3 && panel->result().hasPair &&
                                     panel->result().pair.layer == 3 && panel->result().pair.head == 5,
                                 300000);
        QCOMPARE(panel->head(), 5);
    }
};

QTEST_MAIN(TestVariantsDock)
#include "tst_variants_dock.moc"
