// The KV-cache eviction dock in the real main window (attnscope_app), offscreen, on
// stories260K (or the built-in model when the shared folder is absent): for the selected
// layer/head the panel shows exactly the kept set of selectKv called here directly on a
// separately opened model (same prompt, same greedy continuation), and a parameter edit
// updates the map.
#include <algorithm>

#include <QSignalSpy>
#include <QTest>

#include "analysis_docks.h"
#include "attnscope/analyses/kv.h"
#include "attnscope/model.h"
#include "kv_dock.h"
#include "main_window.h"
#include "metatypes.h"
#include "model_locator.h"
#include "panels/attention_maps_panel.h"
#include "panels/kv_panel.h"
#include "plot/kv_keep_map.h"
#include "test_paths.h"
#include "token_strip.h"

using namespace attnscope;
using attnscope::app::MainWindow;

namespace {

const QString kPrompt = QStringLiteral(
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her "
    "friends. One day, she saw a big red ball under a tree and ran to get it.");
constexpr int kLayer = 1, kHead = 3;
constexpr int kContinuation = 32;  // the panel's default

app::ModelRequest modelRequest() {
    const QString stories = testpaths::stories260K();
    if (!stories.isEmpty()) return {stories + QStringLiteral("/stories260K.bin"), stories + QStringLiteral("/tok512.bin")};
    return {QStringLiteral(ATTNSCOPE_TEST_DATA_DIR "/../../resources/models/attnscope-tiny"), {}};
}

}  // namespace

class TestKvDock : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        widgets::registerMetaTypes();
        const app::ModelRequest req = modelRequest();
        OpenOptions o;
        o.path = req.path.toStdString();
        o.tokenizerPath = req.tokenizer.toStdString();
        m_model = Model::open(o);
        // The reference inputs: prompt as the app tokenizes it, greedy continuation, one trace.
        std::vector<int32_t> ids = m_model->tokenize(kPrompt.toStdString(), true);
        const int64_t Tp = int64_t(ids.size());
        const std::vector<int32_t> cont = m_model->generate(ids, kContinuation, false).tokens;
        ids.insert(ids.end(), cont.begin(), cont.end());
        const auto trace = m_model->run(ids);
        std::vector<KvParams> cover;
        for (const KvPolicyInfo& p : kvPolicies()) cover.push_back({p.name, 16, KvMode::Prefill, {}});
        m_inputs = computeKvInputs(*m_model, *trace, kvInputOptionsFor(cover, Tp));

        m_window = std::make_unique<MainWindow>(/*interactive=*/false);
        m_window->resize(1500, 950);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        m_window->setPromptText(kPrompt);
        m_window->setLayerHead(kLayer, kHead);
        m_window->showPanel(QStringLiteral("kv"));
        QSignalSpy shown(m_window.get(), &MainWindow::panelShown);
        m_window->openModel(req);
        QTRY_VERIFY_WITH_TIMEOUT(std::any_of(shown.begin(), shown.end(),
                                             [](const QList<QVariant>& a) { return a.at(0).toString() == "kv"; }),
                                 120000);
        m_panel = m_window->analysisDocks()->kvDock()->kvPanel();
    }

    void cleanupTestCase() { m_window.reset(); }

    void sameTraceAsTheReference() {
        const auto inputs = m_window->analysisDocks()->kvDock()->inputs();
        QVERIFY(inputs);
        QCOMPARE(inputs->ids, m_inputs.ids);  // prompt + greedy continuation, token for token
        QCOMPARE(inputs->promptLength, m_inputs.promptLength);
    }

    void keptSetsEqualSelectKv_data() {
        QTest::addColumn<QString>("policy");
        QTest::addColumn<int>("budget");
        QTest::newRow("h2o 16") << "h2o" << 16;
        QTest::newRow("snapkv 12") << "snapkv" << 12;
        QTest::newRow("tova 10") << "tova" << 10;
        QTest::newRow("knorm 20") << "knorm" << 20;
    }

    void keptSetsEqualSelectKv() {
        QFETCH(QString, policy);
        QFETCH(int, budget);
        KvParams p;
        p.policy = policy.toStdString();
        p.budget = budget;
        edit(p);
        const KvSelection ref = selectKv(m_inputs, p);
        QCOMPARE(m_panel->selectedLayer(), kLayer);
        QCOMPARE(m_panel->selectedHead(), kHead);
        const std::vector<int64_t>& expected = ref.kept[kLayer][size_t(ref.headOf(kHead))];
        QCOMPARE(m_panel->survivingTokens(), expected);
        // Every layer and query head, as the map draws them (head rows of the selected layer).
        const Matrix2D& map = m_panel->keepMap()->matrix();
        const auto& rows = m_panel->mapRows();
        for (size_t r = 0; r < rows.size(); ++r) {
            if (rows[r].head < 0) continue;
            const auto& kept = ref.kept[size_t(rows[r].layer)][size_t(ref.headOf(rows[r].head))];
            for (int64_t j = 0; j < map.cols; ++j) {
                const bool k = std::binary_search(kept.begin(), kept.end(), j);
                QCOMPARE(map.at(int64_t(r), j), k ? 1.f : 0.f);
            }
        }
        // The main window's token strip shows the same survivors (no query token selected).
        const std::vector<float> strip = m_window->attentionPanel()->tokenStrip()->highlights();
        QCOMPARE(int64_t(strip.size()), ref.promptLength);
        for (int64_t j = 0; j < ref.promptLength; ++j)
            QCOMPARE(strip[size_t(j)], std::binary_search(expected.begin(), expected.end(), j) ? 1.f : 0.f);
    }

    void parameterEditUpdatesTheMap() {
        KvParams p;
        p.policy = "snapkv";
        p.budget = 24;
        edit(p);
        const Matrix2D before = m_panel->keepMap()->matrix();
        p.values["kernel"] = 1;  // no pooling: other heavy hitters
        p.budget = 9;
        edit(p);
        const Matrix2D& after = m_panel->keepMap()->matrix();
        QVERIFY(before.data != after.data);
        const KvSelection ref = selectKv(m_inputs, p);
        QCOMPARE(m_panel->survivingTokens(), ref.kept[kLayer][size_t(ref.headOf(kHead))]);
        QCOMPARE(int(m_panel->survivingTokens().size()), 9);
    }

    void selectionFollowsTheSharedModel() {
        m_window->setLayerHead(0, 5);
        QCOMPARE(m_panel->selectedLayer(), 0);
        QCOMPARE(m_panel->selectedHead(), 5);
        const KvSelection ref = selectKv(m_inputs, m_panel->params());
        QCOMPARE(m_panel->survivingTokens(), ref.kept[0][size_t(ref.headOf(5))]);
        m_window->setLayerHead(kLayer, kHead);
    }

private:
    // As a user's edit: the panel's controls, then the signal they emit; waits for the map.
    void edit(const KvParams& p) {
        m_panel->setParams(p);
        emit m_panel->paramsChanged(m_panel->params());
        QTRY_VERIFY_WITH_TIMEOUT(m_panel->hasSelection() && m_panel->selection().policy == p.policy &&
                                     !m_panel->selection().layerBudget.empty() &&
                                     sameParams(m_panel->params(), p),
                                 30000);
        // The decision shown is the newest one: its per-head budget is the one asked for.
        QTRY_VERIFY_WITH_TIMEOUT(m_panel->selection().layerBudget[0] ==
                                     std::min<int64_t>(p.budget, m_panel->selection().promptLength),
                                 30000);
    }
    static bool sameParams(const KvParams& a, const KvParams& b) {
        return a.policy == b.policy && a.budget == b.budget && a.values == b.values;
    }

    std::unique_ptr<Model> m_model;
    KvInputs m_inputs;
    std::unique_ptr<MainWindow> m_window;
    widgets::KvPanel* m_panel = nullptr;
};

QTEST_MAIN(TestKvDock)
#include "tst_kv_dock.moc"
