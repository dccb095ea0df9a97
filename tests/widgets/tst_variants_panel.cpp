// The attention-variants panel on a synthetic result (tests/support/synthetic_session.h): the
// picker groups variants under disabled family headings, a pick or a parameter edit asks for
// that head's maps with those parameters, the two maps share one colour range and the third is
// their difference cell by cell, and the tables sort by number and list every variant / head.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTableWidget>
#include <QtTest>

#include <cmath>

#include "panels/variants_panel.h"
#include "plot/variant_pair_plot.h"
#include "synthetic_session.h"

using namespace attnscope;
using namespace attnscope::widgets;

namespace {

std::vector<VariantInfo> catalog() {
    VariantInfo soft{"softmax", "Softmax", VariantFamily::Reference, "the model's own", "reference §0", true, {}};
    VariantInfo topk{"topk",
                     "Oracle top-k",
                     VariantFamily::Sparse,
                     "k largest scores",
                     "reference B.7",
                     true,
                     {{"k", 64, 1, 1e6, {}, "kept keys"}}};
    VariantInfo elu{"elu_linear",
                    "ELU+1 linear",
                    VariantFamily::Linear,
                    "phi = elu + 1",
                    "reference A.1",
                    true,
                    {{"rope_mode", 1, 0, 1, {"post", "pre"}, "RoPE"}, {"eps", 1e-6, 0, 1, {}, "epsilon"}}};
    return {soft, elu, topk};
}

}  // namespace

class TestVariantsPanel : public QObject {
    Q_OBJECT
private slots:
    void pickerAndRequests() {
        VariantsPanel panel;
        panel.setCatalog(catalog());
        panel.setShape(4, 3);
        panel.setResult(sessiontest::syntheticVariants());
        auto* picker = panel.findChild<QComboBox*>();
        QVERIFY(picker);
        // reference, linear, sparse: three disabled headings before their variants
        auto* model = qobject_cast<QStandardItemModel*>(picker->model());
        int headings = 0;
        for (int i = 0; i < picker->count(); ++i)
            if (!picker->itemData(i).isValid()) {
                ++headings;
                QVERIFY(!model->item(i)->isEnabled());
            }
        QCOMPARE(headings, 3);
        QCOMPARE(panel.selectedVariant(), QStringLiteral("topk"));  // the stored pair's variant
        QVERIFY(picker->itemData(picker->findData("topk"), Qt::ToolTipRole).toString().contains("reference B.7"));

        QSignalSpy pairs(&panel, &VariantsPanel::pairRequested);
        auto* k = panel.findChild<QDoubleSpinBox*>(QStringLiteral("k"));
        QVERIFY(k);
        QCOMPARE(k->value(), 2.0);  // the result's parameter, not the default
        k->setValue(5);
        QCOMPARE(pairs.size(), 1);
        QCOMPARE(pairs[0][0].toInt(), 1);  // layer
        QCOMPARE(pairs[0][1].toInt(), 2);  // the pair's head
        QCOMPARE(pairs[0][2].toString(), QStringLiteral("topk"));
        QCOMPARE(pairs[0][3].toStringList(), QStringList{"k=5"});
        panel.selectVariant(QStringLiteral("elu_linear"));
        QVERIFY(panel.findChild<QDoubleSpinBox*>(QStringLiteral("eps")));
        QVERIFY(!panel.findChild<QDoubleSpinBox*>(QStringLiteral("k")));  // the old editors are gone
        picker->setCurrentIndex(picker->findData("softmax"));
        QCOMPARE(pairs.size(), 2);
        QCOMPARE(pairs[1][2].toString(), QStringLiteral("softmax"));
    }

    void mapsShareAScaleAndDiffer() {
        VariantsPanel panel;
        const VariantsResult r = sessiontest::syntheticVariants();
        panel.setResult(r);
        VariantPairPlot* plot = panel.pairPlot();
        QVERIFY(plot->hasPair());
        QCOMPARE(plot->map(0)->dataRange(), plot->map(1)->dataRange());
        double hi = 0;
        for (const auto* m : {&r.pair.softmax.map, &r.pair.variant.map})
            for (double w : *m) hi = std::max(hi, w);
        QCOMPARE(plot->map(0)->dataRange().upper, hi);  // one scale: the larger of the two maps' maxima
        QCOMPARE(plot->map(0)->dataScaleType(), QCPAxis::stLogarithmic);  // log by default
        plot->setLogScale(false);
        QCOMPARE(plot->map(0)->dataRange(), plot->map(1)->dataRange());
        QCOMPARE(plot->map(0)->dataRange().upper, hi);
        QCOMPARE(plot->map(0)->dataRange().lower, 0.0);
        const int64_t T = r.pair.T;
        for (int q = 0; q < int(T); q += 3)
            for (int key = 0; key <= q; ++key) {
                const size_t c = size_t(q) * size_t(T) + size_t(key);
                QCOMPARE(plot->map(2)->data()->cell(key, q), r.pair.variant.map[c] - r.pair.softmax.map[c]);
            }
        QVERIFY(std::isnan(plot->map(0)->data()->cell(5, 2)));  // above the diagonal: the causal mask
        // The difference scale is centred on 0.
        QCOMPARE(plot->map(2)->dataRange().center(), 0.0);
    }

    // A long prompt's pair comes pooled: each cell sits at the centre of its block, a block wholly
    // above the diagonal is blank; a zoom asks for the exact tile of the view, and that tile
    // arriving keeps the view.
    void pooledTilesAndZoom() {
        VariantHeadPair p;
        p.layer = 1, p.head = 0, p.T = 100, p.dv = 4, p.name = "window";
        p.tile = {0, 100, 0, 100, 10, 10, true};
        for (int r = 0; r < 10; ++r)
            for (int c = 0; c < 10; ++c) {
                p.softmax.map.push_back(c <= r ? 0.01 * (r + 1) : 0.0);
                p.variant.map.push_back(c <= r ? 0.02 * (c + 1) : 0.0);
            }
        p.softmax.rowEntropy.assign(100, 1.0);
        p.variant.rowEntropy.assign(100, 0.5);
        VariantPairPlot plot;
        plot.resize(900, 700);
        plot.setPair(p);
        QVERIFY(plot.hasPair());
        QCPColorMapData* d = plot.map(1)->data();
        QCOMPARE(d->keySize(), 10);
        QCOMPARE(d->keyRange().lower, 4.5);  // cell 0 covers keys 0..9
        QCOMPARE(d->keyRange().upper, 94.5);
        QCOMPARE(d->cell(3, 7), 0.02 * 4);
        QVERIFY(std::isnan(d->cell(1, 0)));  // keys 10..19 all after queries 0..9
        QVERIFY(!std::isnan(d->cell(0, 0)));
        QVERIFY(plot.wantedTile().rows == 0);  // the pooled tile is the view
        QSignalSpy wanted(&plot, &VariantPairPlot::tileWanted);
        plot.rect(0)->axis(QCPAxis::atBottom)->setRange(20, 40);
        QTRY_COMPARE(wanted.count(), 1);
        const VariantTile t = plot.wantedTile();
        QCOMPARE(t.k0, int64_t(20));
        QCOMPARE(t.k1, int64_t(41));
        QCOMPARE(t.q0, int64_t(0));
        QCOMPARE(t.q1, int64_t(100));
        p.tile = {0, 100, 20, 41, 100, 21, false};
        p.softmax.map.assign(100 * 21, 0.01);
        p.variant.map.assign(100 * 21, 0.02);
        plot.setPair(p);
        QCOMPARE(plot.rect(1)->axis(QCPAxis::atBottom)->range(), QCPRange(20, 40));  // the view stays
        QCOMPARE(plot.wantedTile().rows, 0);                                         // and the exact tile covers it
        QCOMPARE(plot.map(0)->data()->keyRange().lower, 20.0);
    }

    void tablesListAndSort() {
        VariantsPanel panel;
        const VariantsResult r = sessiontest::syntheticVariants();
        panel.setResult(r);
        QTableWidget* compare = panel.compareTable();
        QCOMPARE(compare->rowCount(), int(r.variants.size()));
        compare->sortItems(2, Qt::DescendingOrder);  // output error
        QCOMPARE(compare->item(0, 0)->text(), QStringLiteral("elu_linear"));
        QCOMPARE(compare->item(2, 0)->text(), QStringLiteral("softmax"));
        QVERIFY(!compare->item(2, 10));  // softmax has no end-to-end run here
        QTableWidget* heads = panel.headTable();
        QCOMPARE(heads->rowCount(), int(r.variants[1].heads.size()));
        heads->sortItems(1, Qt::DescendingOrder);
        QCOMPARE(heads->item(0, 0)->text(), QStringLiteral("2"));  // head 2 has the largest error
    }
};

QTEST_MAIN(TestVariantsPanel)
#include "tst_variants_panel.moc"
