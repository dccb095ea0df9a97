// KV-cache eviction lab (issue 6): pick a policy from core's registry, move its budget and
// parameters, and see which tokens every layer and head keeps, what that costs locally
// (ρ, output and residual error per layer) and end to end (KL, top-1, perplexity); sweep
// budgets for several policies; compare two parameter sets. Pure view: it shows plain data
// it is given and reports edits, which the app computes on its threads.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <QStringList>
#include <QWidget>

#include "attnscope/analyses/kv.h"  // plain structs only
#include "attnscope/views.h"
#include "models/kv_views.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;
class QTabWidget;
class QTimer;

namespace attnscope::widgets {

class KvKeepMap;
class KvParamForm;
class KvSweepPlot;
class LayerCurvesPlot;
class TokenStrip;

class KvPanel : public QWidget {
    Q_OBJECT
public:
    explicit KvPanel(QWidget* parent = nullptr);

    // The registry (core's kvPolicies()), in menu order. Emits nothing.
    void setPolicies(const std::vector<KvPolicyInfo>& policies);
    const std::vector<KvPolicyInfo>& policies() const { return m_policies; }
    void setTokens(const attnscope::TokenStrip& tokens);  // prompt + evaluated continuation
    const attnscope::TokenStrip& tokens() const { return m_tokens; }
    void setSinkPositions(const std::vector<int64_t>& positions);  // from the sinks analysis
    const std::vector<int64_t>& sinkPositions() const { return m_sinks; }
    // Policy A's decision and its local metrics; `timing` goes to the status line.
    void setSelection(const KvSelection& selection, const KvLocalMetrics& metrics, const QString& timing = {});
    void setCompareSelection(const KvSelection& selection);  // policy B, from pinned parameters
    // B and its decision at once, emitting nothing (a stored session).
    void setCompare(const KvParams& params, const KvSelection& selection);
    void setEndToEnd(const KvEndToEnd& e2e);
    void setEndToEndBusy(bool busy, double fraction = 0);
    void setSweep(const std::vector<KvSweepPoint>& points);
    void setSweepBusy(bool busy, double fraction = 0);
    void setStatus(const QString& text);
    void clear();

    KvParams params() const;
    void setParams(const KvParams& params);  // emits nothing
    const std::optional<KvParams>& compareParams() const { return m_compareParams; }
    void setCompareParams(const KvParams& params);  // "pin as B"; emits compareRequested
    // Continuation the metrics are evaluated on: greedy tokens after the prompt, or the run's last tokens.
    int continuationTokens() const;
    bool greedyContinuation() const;
    std::vector<KvParams> sweepParams() const;  // checked policies x budgets, prefill
    void setSweepPolicies(const QStringList& names);
    void setSweepBudgets(const QString& budgets);
    void setSweepMetric(KvSweepMetric metric);
    KvSweepMetric sweepMetric() const;
    void setSweepLog(bool log);
    bool sweepLog() const;
    const std::vector<KvSweepPoint>& sweep() const { return m_sweep; }

    // Follow the shared selection (head -1: the layer row); emits nothing.
    void selectLayerHead(int layer, int head);
    int selectedLayer() const { return m_layer; }
    int selectedHead() const { return m_head; }
    int step() const;
    void setStep(int step);  // decode mode: the step the maps show
    void showTab(int index);

    bool hasSelection() const { return m_haveSelection; }
    const KvSelection& selection() const { return m_selection; }
    const KvLocalMetrics& localMetrics() const { return m_metrics; }
    bool hasCompareSelection() const { return m_haveCompare; }
    const KvSelection& compareSelection() const { return m_compare; }
    bool hasEndToEnd() const { return m_haveEndToEnd; }
    const KvEndToEnd& endToEnd() const { return m_endToEnd; }
    const std::vector<KvMapRow>& mapRows() const { return m_rows; }
    int64_t mapQuery() const;
    // The tokens the selected layer/head holds in the map's query (what the strip shows).
    std::vector<int64_t> survivingTokens() const;
    KvKeepMap* keepMap() const { return m_keepMap; }
    KvKeepMap* compareMapA() const { return m_mapA; }
    KvKeepMap* compareMapB() const { return m_mapB; }
    KvKeepMap* diffMap() const { return m_diffMap; }
    KvSweepPlot* sweepPlot() const { return m_sweepPlot; }
    LayerCurvesPlot* metricsPlot() const { return m_metricsPlot; }
    TokenStrip* tokenStrip() const { return m_strip; }
    QString endToEndText() const;
    bool autoEndToEnd() const;  // re-run end to end after every edit

signals:
    void paramsChanged(const attnscope::KvParams& params);
    void continuationChanged();  // the evaluated continuation: new inputs needed
    void endToEndRequested(const attnscope::KvParams& params);
    void cancelEndToEnd();
    void sweepRequested(const std::vector<attnscope::KvParams>& params);
    void cancelSweep();
    void compareRequested(const attnscope::KvParams& params);
    void layerHeadSelected(int layer, int head);
    // The survival mask the token strip shows (1 kept, 0 evicted), for other strips to follow.
    void survivorsChanged(const std::vector<float>& mask);

private:
    // The per-layer curves of the map tab, in legend order.
    static constexpr KvLocalMetric kLocalMetrics[] = {KvLocalMetric::RetainedMass, KvLocalMetric::OutputRelErr,
                                                      KvLocalMetric::ResidErr};
    QWidget* buildControls();
    QWidget* buildMapTab();
    QWidget* buildSweepTab();
    QWidget* buildCompareTab();
    void onPolicyChanged();
    void emitParams();
    void showMaps();
    void showMetrics();
    void showSweep();
    void updateStepControls();
    QString tokenText(int64_t t) const;
    void describeMap(KvKeepMap* map, const KvSelection* sel);
    void showCompareParams(const KvParams& params);

    std::vector<KvPolicyInfo> m_policies;
    attnscope::TokenStrip m_tokens;
    QStringList m_tokenTexts;
    std::vector<int64_t> m_sinks;
    KvSelection m_selection, m_compare;
    bool m_haveSelection = false, m_haveCompare = false, m_haveEndToEnd = false;
    KvLocalMetrics m_metrics;
    KvEndToEnd m_endToEnd;
    std::optional<KvParams> m_compareParams;
    std::vector<KvSweepPoint> m_sweep;
    std::vector<KvMapRow> m_rows;
    int m_layer = 0, m_head = -1;
    bool m_quiet = false;  // building controls: no signals

    QComboBox* m_policy = nullptr;
    QSlider* m_budgetSlider = nullptr;
    QSpinBox* m_budget = nullptr;
    QComboBox* m_mode = nullptr;
    KvParamForm* m_form = nullptr;
    QComboBox* m_contSource = nullptr;
    QSpinBox* m_contTokens = nullptr;
    QSlider* m_stepSlider = nullptr;
    QPushButton* m_play = nullptr;
    QLabel* m_stepLabel = nullptr;
    QTimer* m_playTimer = nullptr;
    QLabel *m_summary = nullptr, *m_status = nullptr;
    QTabWidget* m_tabs = nullptr;

    KvKeepMap* m_keepMap = nullptr;
    TokenStrip* m_strip = nullptr;
    LayerCurvesPlot* m_metricsPlot = nullptr;
    QLabel* m_e2e = nullptr;
    QPushButton *m_e2eRun = nullptr, *m_e2eCancel = nullptr;
    QCheckBox* m_e2eAuto = nullptr;
    QProgressBar* m_e2eProgress = nullptr;

    QListWidget* m_sweepPolicies = nullptr;
    QLineEdit* m_sweepBudgets = nullptr;
    QComboBox* m_sweepMetric = nullptr;
    QCheckBox* m_sweepLog = nullptr;
    QPushButton *m_sweepRun = nullptr, *m_sweepCancel = nullptr;
    QProgressBar* m_sweepProgress = nullptr;
    KvSweepPlot* m_sweepPlot = nullptr;

    QLabel *m_compareCaption = nullptr, *m_mapALabel = nullptr, *m_mapBLabel = nullptr;
    KvKeepMap *m_mapA = nullptr, *m_mapB = nullptr, *m_diffMap = nullptr;
};

}  // namespace attnscope::widgets
