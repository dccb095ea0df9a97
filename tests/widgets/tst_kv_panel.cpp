// The KV-cache eviction panel draws exactly the plain selections it is given (built here by
// hand from kept lists, no core, no torch): keep-map cells and colours, the survivors of the
// selected head, regions, decode steps, the A − B difference, the parameter form built from
// registry data, selection signals, and the sweep plot's series.
#include <algorithm>
#include <cmath>
#include <set>

#include <QComboBox>
#include <QFile>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

#include "panels/kv_panel.h"
#include "panels/kv_param_form.h"
#include "plot/kv_keep_map.h"
#include "plot/kv_sweep_plot.h"
#include "plot/layer_curves_plot.h"
#include "plot/plot_menu.h"
#include "token_strip.h"

using namespace attnscope;
using namespace attnscope::widgets;

namespace {

constexpr int kL = 2, kH = 4, kHkv = 2;
constexpr int64_t kT = 10, kTp = 8;

// kept[l][g]: KV head g of layer l. Tokens 0, 1 and 6, 7 are kept everywhere.
const std::vector<std::vector<std::vector<int64_t>>> kKept = {{{0, 1, 2, 6, 7}, {0, 1, 4, 6, 7}},
                                                             {{0, 1, 3, 6, 7}, {0, 1, 5, 6, 7}}};

// A prefill selection at KV-head granularity, `until` written from the kept lists as the
// reference defines it: evicted prompt keys are visible to prompt queries only.
KvSelection prefill(const std::vector<std::vector<std::vector<int64_t>>>& kept) {
    KvSelection s;
    s.policy = "test_policy";
    s.granularity = KvGranularity::KvHead;
    s.T = kT;
    s.promptLength = kTp;
    s.nLayers = kL;
    s.nHeads = kH;
    s.nKvHeads = kHkv;
    s.heads = kHkv;
    s.kept = kept;
    s.layerBudget.assign(kL, 5);
    s.until.assign(size_t(kL * kHkv * kT), kKvNever);
    for (int l = 0; l < kL; ++l)
        for (int g = 0; g < kHkv; ++g)
            for (int64_t j = 0; j < kTp; ++j) {
                const auto& k = kept[size_t(l)][size_t(g)];
                if (std::find(k.begin(), k.end(), j) == k.end()) s.until[size_t((l * kHkv + g) * kT + j)] = kTp;
            }
    return s;
}

bool keptByGroup(int l, int g, int64_t j) {
    const auto& k = kKept[size_t(l)][size_t(g)];
    return std::find(k.begin(), k.end(), j) != k.end();
}

KvLocalMetrics metrics() {
    KvLocalMetrics m;
    for (int l = 0; l < kL; ++l) {
        KvLayerMetrics y;
        y.retainedMass = 0.9 - 0.1 * l;
        y.outputRelErr = 0.05 + 0.02 * l;
        y.residErr = 0.3 + l;
        m.layers.push_back(y);
    }
    m.queries = 2;
    return m;
}

std::vector<KvPolicyInfo> policies() {
    KvPolicyInfo a{"test_policy", "Test policy", "§9.9 test source", true, false, {}};
    a.params = {{"window", 8, 1, 1e9, {}, "observation window [SRC]", true},
                {"pool", 0, 0, 1, {"avg", "max"}, "pooling", false},
                {"flag", 1, 0, 1, {}, "a switch", false},
                {"ratio", -1, -1, 1, {}, "share; -1 auto", false}};
    KvPolicyInfo b{"other", "Other policy", "§1 other", false, false, {}};
    return {a, b};
}

attnscope::TokenStrip tokens() {
    attnscope::TokenStrip t;
    for (int i = 0; i < kT; ++i) {
        t.ids.push_back(i);
        t.pieces.push_back("tok" + std::to_string(i));
    }
    return t;
}

struct Fixture {
    KvPanel panel;
    Fixture() {
        panel.resize(1000, 800);
        panel.setPolicies(policies());
        panel.setTokens(tokens());
        panel.selectLayerHead(1, 3);
        panel.setSelection(prefill(kKept), metrics());
        panel.show();
    }
};

}  // namespace

class TestKvPanel : public QObject {
    Q_OBJECT
private slots:
    void fitsTheDockAt1600x1000() {
        // The KV dock gets ~514 px of a 1600 px window beside the attention map (measured on
        // docs/screenshots/kv-keep-map.png): the panel must not need more, or the dock scrolls
        // and hides the keep map's recent end.
        KvPanel panel;
        std::vector<KvPolicyInfo> p = policies();
        p[0].title = "StreamingLLM: attention sinks + recent window, a long menu title";
        for (const char* n : {"offset_agg", "group_agg", "normalize", "offset_max", "mlr", "pruning"})
            p[0].params.push_back({n, 0, 0, 1e9, {}, "a parameter", false});
        panel.setPolicies(p);
        panel.setTokens(tokens());
        panel.setSelection(prefill(kKept), metrics());
        QVERIFY2(panel.minimumSizeHint().width() <= 514, qPrintable(QString::number(panel.minimumSizeHint().width())));
    }

    void keepMapCellsAreTheKeptSets() {
        Fixture f;
        KvKeepMap* map = f.panel.keepMap();
        // Rows: L0, L1, then L1's four query heads.
        const std::vector<KvMapRow> rows = f.panel.mapRows();
        QCOMPARE(int(rows.size()), kL + kH);
        QCOMPARE(map->matrix().rows, kL + kH);
        QCOMPARE(map->matrix().cols, kTp);  // prefill: the prompt
        for (int r = 0; r < int(rows.size()); ++r) {
            for (int64_t j = 0; j < kTp; ++j) {
                const int l = rows[size_t(r)].layer, h = rows[size_t(r)].head;
                double expected = 0;
                if (h >= 0) expected = keptByGroup(l, h / (kH / kHkv), j) ? 1 : 0;
                else
                    for (int q = 0; q < kH; ++q) expected += keptByGroup(l, q / (kH / kHkv), j) ? 1.0 / kH : 0;
                QCOMPARE(double(map->matrix().at(r, j)), expected);
            }
        }
        // The current cell is the selected head's row.
        QCOMPARE(map->currentRow(), 2 + 3);
    }

    void keptAndEvictedColours() {
        Fixture f;
        QCPColorMap* cm = f.panel.keepMap()->colorMap();
        const QCPRange range = cm->dataRange();
        QCOMPARE(range.lower, 0.0);
        QCOMPARE(range.upper, 1.0);
        QCOMPARE(QColor(cm->gradient().color(1.0, range)), KvKeepMap::keptColor());
        QCOMPARE(QColor(cm->gradient().color(0.0, range)), KvKeepMap::evictedColor());
        // The colour bar is titled and the plot carries the shared menu.
        QVERIFY(!f.panel.keepMap()->colorScaleElement()->axis()->label().isEmpty());
        QVERIFY(PlotMenu::of(f.panel.keepMap()));
        QVERIFY(!f.panel.keepMap()->xAxis->label().isEmpty());
    }

    void stripShowsTheSelectedHeadsSurvivors() {
        Fixture f;
        // Query head 3 reads KV head 1 of layer 1.
        const std::vector<int64_t> expected = kKept[1][1];
        QCOMPARE(f.panel.survivingTokens(), expected);
        const std::vector<float> hl = f.panel.tokenStrip()->highlights();
        QCOMPARE(int(hl.size()), int(kT));
        for (int64_t j = 0; j < kTp; ++j) QCOMPARE(hl[size_t(j)], keptByGroup(1, 1, j) ? 1.f : 0.f);
        // Head 0 of layer 0 reads KV head 0.
        QSignalSpy survivors(&f.panel, &KvPanel::survivorsChanged);
        f.panel.selectLayerHead(0, 0);
        QCOMPARE(f.panel.survivingTokens(), kKept[0][0]);
        QCOMPARE(survivors.count(), 1);
    }

    void regionsEveryHeadKeeps() {
        Fixture f;
        QCOMPARE(f.panel.keepMap()->regionPrefix(), 2);  // 0, 1 everywhere
        QCOMPARE(f.panel.keepMap()->regionSuffix(), 2);  // 6, 7 everywhere
        f.panel.setSinkPositions({0, 3});
        const std::vector<int64_t> sinks = {0, 3};
        QCOMPARE(f.panel.keepMap()->sinkPositions(), sinks);
    }

    void clickingARowSelectsItsLayerAndHead() {
        Fixture f;
        QSignalSpy spy(&f.panel, &KvPanel::layerHeadSelected);
        KvKeepMap* map = f.panel.keepMap();
        map->replot();
        QTest::mouseClick(map, Qt::LeftButton, {}, map->cellCenter(3, 4).toPoint());  // row 3 = L1 h1
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toInt(), 1);
        QCOMPARE(spy.at(0).at(1).toInt(), 1);
        QTest::mouseClick(map, Qt::LeftButton, {}, map->cellCenter(0, 4).toPoint());  // L0 (layer row)
        QCOMPARE(spy.count(), 2);
        QCOMPARE(spy.at(1).at(0).toInt(), 0);
        QCOMPARE(spy.at(1).at(1).toInt(), -1);
    }

    void formFromRegistryAndParamEdits() {
        Fixture f;
        auto* form = f.panel.findChild<KvParamForm*>();
        QVERIFY(form);
        QVERIFY(qobject_cast<QSpinBox*>(form->control("window")));
        QVERIFY(qobject_cast<QComboBox*>(form->control("pool")));
        QVERIFY(form->control("flag"));
        QVERIFY(form->control("window")->toolTip().contains(QStringLiteral("§9.9 test source")));
        QSignalSpy spy(&f.panel, &KvPanel::paramsChanged);
        qobject_cast<QSpinBox*>(form->control("window"))->setValue(16);
        QCOMPARE(spy.count(), 1);
        const auto p = spy.at(0).at(0).value<KvParams>();
        QCOMPARE(p.policy, std::string("test_policy"));
        QCOMPARE(p.values.at("window"), 16.0);
        QCOMPARE(p.values.count("pool"), size_t(0));  // defaults are not sent
        QSpinBox* budget = nullptr;
        for (QSpinBox* box : f.panel.findChildren<QSpinBox*>())
            if (box->prefix().startsWith(QStringLiteral("B ="))) budget = box;
        QVERIFY(budget);
        budget->setValue(3);
        QCOMPARE(spy.count(), 2);
        QCOMPARE(spy.at(1).at(0).value<KvParams>().budget, int64_t(3));
    }

    void differenceOfTwoSelections() {
        Fixture f;
        auto kept = kKept;
        kept[1][1] = {0, 1, 2, 6, 7};  // B keeps 2 instead of 5 in layer 1, KV head 1
        f.panel.setCompareSelection(prefill(kept));
        const Matrix2D& d = f.panel.diffMap()->matrix();
        const int row = 2 + 3;  // L1 h3 (KV head 1)
        QCOMPARE(d.at(row, 5), 1.f);   // only A
        QCOMPARE(d.at(row, 2), -1.f);  // only B
        QCOMPARE(d.at(row, 0), 0.f);
        QCOMPARE(d.at(1, 5), 0.5f);    // layer row: 2 of 4 query heads differ
        QCOMPARE(d.at(0, 5), 0.f);     // layer 0 unchanged
        QCOMPARE(f.panel.compareMapB()->matrix().at(row, 2), 1.f);
    }

    void decodeStepsShowTheCacheAtEachQuery() {
        Fixture f;
        KvSelection s = prefill(kKept);
        s.mode = KvMode::Decode;
        // Layer 0, KV head 0: key 2 is evicted after query 8 (until 9), key 8 at query 9 exists.
        s.until[size_t((0 * kHkv + 0) * kT + 2)] = 9;
        f.panel.selectLayerHead(0, 0);
        f.panel.setSelection(s, metrics());
        QCOMPARE(f.panel.keepMap()->matrix().cols, kT);
        f.panel.setStep(0);
        QCOMPARE(f.panel.mapQuery(), kTp);
        std::vector<int64_t> at8 = {0, 1, 2, 6, 7, 8};
        QCOMPARE(f.panel.survivingTokens(), at8);
        QVERIFY(std::isnan(f.panel.keepMap()->matrix().at(0, 9)));  // not generated yet
        f.panel.setStep(1);
        QCOMPARE(f.panel.mapQuery(), kTp + 1);
        std::vector<int64_t> at9 = {0, 1, 6, 7, 8, 9};
        QCOMPARE(f.panel.survivingTokens(), at9);
    }

    void metricsPlotPerLayer() {
        Fixture f;
        LayerCurvesPlot* p = f.panel.metricsPlot();
        QCOMPARE(p->graphCount(), 3);
        for (int l = 0; l < kL; ++l) {
            QCOMPARE(p->graph(0)->data()->at(l)->value, 0.9 - 0.1 * l);
            QCOMPARE(p->graph(1)->data()->at(l)->value, 0.05 + 0.02 * l);
            QCOMPARE(p->graph(2)->data()->at(l)->value, 0.3 + l);
        }
        QVERIFY(p->legend->visible());
    }

    void sweepPlotSeries() {
        Fixture f;
        std::vector<KvSweepPoint> pts;
        const char* names[] = {"h2o", "snapkv", "tova"};
        for (int pi = 0; pi < 3; ++pi)
            for (int64_t b : {64, 16, 32})  // out of order: the plot sorts by budget
                pts.push_back({names[pi], b, 0.1 * (pi + 1) / double(b), 1.0 - 1.0 / double(b), 10, 9, 0.5, 0.1});
        f.panel.setSweep(pts);
        KvSweepPlot* plot = f.panel.sweepPlot();
        QCOMPARE(plot->seriesCount(), 3);
        for (int pi = 0; pi < 3; ++pi) {
            QCOMPARE(plot->graph(pi)->name(), QString::fromLatin1(names[pi]));
            QCOMPARE(plot->graph(pi)->dataCount(), 3);
            const int64_t budgets[] = {16, 32, 64};
            for (int k = 0; k < 3; ++k) {
                QCOMPARE(plot->graph(pi)->data()->at(k)->key, double(budgets[k]));
                QCOMPARE(plot->graph(pi)->data()->at(k)->value, 0.1 * (pi + 1) / double(budgets[k]));
            }
        }
        QVERIFY(plot->yAxis->label().contains(QStringLiteral("KL")));
        QVERIFY(plot->legend->visible());
        f.panel.setSweepMetric(KvSweepMetric::Top1);
        QCOMPARE(plot->graph(0)->data()->at(0)->value, 1.0 - 1.0 / 16);
        QVERIFY(plot->yAxis->label().contains(QStringLiteral("top-1")));
        // The sweep's parameters: checked policies x budgets.
        f.panel.setSweepPolicies({QStringLiteral("other")});
        f.panel.setSweepBudgets(QStringLiteral("8, 24,x"));
        const auto sp = f.panel.sweepParams();
        QCOMPARE(int(sp.size()), 2);
        QCOMPARE(sp[0].policy, std::string("other"));
        QCOMPARE(sp[1].budget, int64_t(24));
    }

    // The CLI's kv-sweep CSV, read back by column name into the same plot.
    void sweepFromCliCsv() {
        const QString csv = QStringLiteral(
            "policy,budget,mode,granularity,kl,top1,ppl,ppl_full,retained_mass,output_rel_err\n"
            "h2o,64,prefill,query_head,0.25,0.75,12.5,11,0.9,0.1\n"
            "h2o,16,prefill,query_head,1.5,0.5,20,11,0.6,0.4\n"
            "tova,16,prefill,layer,0.125,0.875,13,11,0.7,0.3\n");
        QString error;
        const auto pts = kvSweepFromCliCsv(csv, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(int(pts.size()), 3);
        QCOMPARE(pts[1].budget, int64_t(16));
        QCOMPARE(pts[1].kl, 1.5);
        QCOMPARE(pts[2].retainedMass, 0.7);
        Fixture f;
        f.panel.setSweep(pts);
        QCOMPARE(f.panel.sweepPlot()->seriesCount(), 2);
        QCOMPARE(f.panel.sweepPlot()->graph(0)->data()->at(0)->value, 1.5);  // h2o at B = 16
        QVERIFY(kvSweepFromCliCsv(QStringLiteral("a,b\n1,2\n"), &error).empty());
        QVERIFY(!error.isEmpty());
        // Closing-note figure: ATTNSCOPE_KV_SWEEP_CSV=in.csv ATTNSCOPE_KV_SWEEP_PNG=out.png
        // renders a CLI sweep with this plot (docs/kv/README.md).
        const QString in = qEnvironmentVariable("ATTNSCOPE_KV_SWEEP_CSV"), out = qEnvironmentVariable("ATTNSCOPE_KV_SWEEP_PNG");
        if (in.isEmpty() || out.isEmpty()) return;
        QFile file(in);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const auto all = kvSweepFromCliCsv(QString::fromUtf8(file.readAll()), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        f.panel.setSweep(all);
        f.panel.sweepPlot()->resize(1000, 600);
        QVERIFY(exportPlot(f.panel.sweepPlot(), out, 144, QSize(1000, 600)));
    }
};

QTEST_MAIN(TestKvPanel)
#include "tst_kv_panel.moc"
