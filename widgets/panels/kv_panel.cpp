#include "panels/kv_panel.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "panels/kv_param_form.h"
#include "plot/kv_keep_map.h"
#include "plot/kv_sweep_plot.h"
#include "plot/layer_curves_plot.h"
#include "plot/plot_theme.h"
#include "token_strip.h"

namespace attnscope::widgets {
namespace {

constexpr int kPlayIntervalMs = 120;  // one decode step per tick

QString budgetHelp() {
    return QObject::tr("<b>Budget B</b>: tokens kept per head, sink, window and recent tokens included "
                       "(PyramidKV: the average over layers). <i>Reference Part 2; kvpress compression_ratio = "
                       "1 \u2212 B/T.</i>");
}

}  // namespace

KvPanel::KvPanel(QWidget* parent) : QWidget(parent) {
    m_summary = new QLabel(tr("Run a prompt to see which tokens each KV-cache policy keeps."), this);
    m_summary->setWordWrap(true);
    m_status = new QLabel(this);
    m_status->setEnabled(false);  // greyed: timings and progress are secondary
    for (QLabel* l : {m_summary, m_status}) l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(buildMapTab(), tr("Keep map"));
    m_tabs->addTab(buildSweepTab(), tr("Budget sweep"));
    m_tabs->addTab(buildCompareTab(), tr("Compare A / B"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(buildControls());
    layout->addWidget(m_summary);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_status);
    m_playTimer = new QTimer(this);
    m_playTimer->setInterval(kPlayIntervalMs);
    connect(m_playTimer, &QTimer::timeout, this, [this] {
        if (m_stepSlider->value() >= m_stepSlider->maximum()) {
            m_playTimer->stop();
            m_play->setText(tr("Play"));
            return;
        }
        m_stepSlider->setValue(m_stepSlider->value() + 1);
    });
    clear();
}

QWidget* KvPanel::buildControls() {
    auto* box = new QWidget(this);
    m_policy = new QComboBox(box);
    m_budgetSlider = new QSlider(Qt::Horizontal, box);
    m_budgetSlider->setRange(1, 4096);
    m_budget = new QSpinBox(box);
    m_budget->setRange(1, 1 << 30);
    m_budget->setPrefix(tr("B = "));
    m_budget->setKeyboardTracking(false);
    m_budget->setValue(64);
    m_budgetSlider->setValue(64);
    for (QWidget* w : std::initializer_list<QWidget*>{m_budgetSlider, m_budget}) w->setToolTip(budgetHelp());
    m_mode = new QComboBox(box);
    m_mode->addItems({tr("prefill"), tr("decode")});
    m_mode->setToolTip(tr("<b>prefill</b>: one decision after the prompt, the continuation read on that cache. "
                          "<b>decode</b>: the policy evicts at every continuation step, scoring on its own "
                          "compressed cache (reference \u00a73.1). Before the end-to-end run the map uses the "
                          "traced q/k; the end-to-end run simulates through the model."));
    m_contSource = new QComboBox(box);
    m_contSource->addItems({tr("greedy continuation"), tr("last tokens of the run")});
    m_contSource->setToolTip(tr("What the metrics are evaluated on: the full-cache greedy continuation of the "
                                "prompt (teacher-forced), or the run's own last tokens (a user text)."));
    m_contTokens = new QSpinBox(box);
    m_contTokens->setRange(1, 512);
    m_contTokens->setValue(32);
    m_contTokens->setPrefix(tr("C = "));
    m_contTokens->setSuffix(tr(" tokens"));
    m_contTokens->setToolTip(m_contSource->toolTip());
    m_contTokens->setKeyboardTracking(false);
    m_form = new KvParamForm(box);
    m_stepSlider = new QSlider(Qt::Horizontal, box);
    m_play = new QPushButton(tr("Play"), box);
    m_stepLabel = new QLabel(box);
    m_play->setToolTip(tr("Play the decode steps: the maps show the cache as each continuation token is read."));

    // Long policy titles must not widen the dock (the keep map needs the width): the
    // combos shrink to a few characters and show the full title in their pop-up.
    for (QComboBox* c : {m_policy, m_contSource}) {
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(8);
    }
    auto* grid = new QGridLayout(box);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->addWidget(new QLabel(tr("Policy"), box), 0, 0);
    grid->addWidget(m_policy, 0, 1, 1, 2);
    grid->addWidget(m_mode, 0, 3);
    grid->addWidget(new QLabel(tr("Budget"), box), 1, 0);
    grid->addWidget(m_budgetSlider, 1, 1, 1, 2);
    grid->addWidget(m_budget, 1, 3);
    grid->addWidget(m_contSource, 2, 0, 1, 2);  // "greedy continuation" says what it is
    grid->addWidget(m_contTokens, 2, 2, 1, 2);
    grid->addWidget(m_play, 3, 0);
    grid->addWidget(m_stepSlider, 3, 1, 1, 2);
    grid->addWidget(m_stepLabel, 3, 3);
    // A short title: a group box is at least as wide as its title, and the dock is narrow.
    auto* params = new QGroupBox(tr("Parameters"), box);
    params->setToolTip(tr("The policy's parameters: hover each for its meaning, default and source."));
    (new QVBoxLayout(params))->addWidget(m_form);
    grid->addWidget(params, 0, 4, 4, 1);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(4, 1);

    connect(m_policy, &QComboBox::currentIndexChanged, this, &KvPanel::onPolicyChanged);
    connect(m_budgetSlider, &QSlider::valueChanged, m_budget, &QSpinBox::setValue);
    connect(m_budget, &QSpinBox::valueChanged, this, [this](int v) {
        const QSignalBlocker block(m_budgetSlider);
        m_budgetSlider->setValue(v);
        emitParams();
    });
    connect(m_mode, &QComboBox::currentIndexChanged, this, &KvPanel::emitParams);
    connect(m_form, &KvParamForm::changed, this, &KvPanel::emitParams);
    connect(m_contSource, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_quiet) emit continuationChanged();
    });
    connect(m_contTokens, &QSpinBox::valueChanged, this, [this] {
        if (!m_quiet) emit continuationChanged();
    });
    connect(m_stepSlider, &QSlider::valueChanged, this, [this] {
        updateStepControls();
        showMaps();
    });
    connect(m_play, &QPushButton::clicked, this, [this] {
        if (m_playTimer->isActive()) {
            m_playTimer->stop();
            m_play->setText(tr("Play"));
            return;
        }
        if (m_stepSlider->value() >= m_stepSlider->maximum()) m_stepSlider->setValue(0);
        m_play->setText(tr("Pause"));
        m_playTimer->start();
    });
    return box;
}

void KvPanel::describeMap(KvKeepMap* map, const KvSelection* sel) {
    map->setCellDescriber([this, map, sel](int row, int col) {
        if (row < 0 || row >= int(m_rows.size())) return QString();
        const float v = map->matrix().at(row, col);
        if (!sel) {
            const QString what = v > 0 ? tr("kept by A only") : v < 0 ? tr("kept by B only") : tr("same in A and B");
            return tr("token %1 %2: %3").arg(col).arg(tokenText(col).toHtmlEscaped(), what);
        }
        return kvCellText(*sel, m_rows[size_t(row)], col, mapQuery(), v, tokenText(col));
    });
}

void KvPanel::setPolicies(const std::vector<KvPolicyInfo>& policies) {
    m_policies = policies;
    m_quiet = true;
    m_policy->clear();
    m_sweepPolicies->clear();
    for (const KvPolicyInfo& p : policies) {
        m_policy->addItem(QString::fromStdString(p.title), QString::fromStdString(p.name));
        m_policy->setItemData(m_policy->count() - 1, kvPolicyTooltip(p), Qt::ToolTipRole);
        auto* item = new QListWidgetItem(QString::fromStdString(p.name), m_sweepPolicies);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Checked);
        item->setToolTip(kvPolicyTooltip(p));
    }
    m_quiet = false;
    onPolicyChanged();
}

void KvPanel::onPolicyChanged() {
    const KvPolicyInfo* info = kvFindPolicy(m_policies, m_policy->currentData().toString().toStdString());
    if (!info) return;
    const bool quiet = std::exchange(m_quiet, true);
    m_form->setPolicy(*info, {});
    m_policy->setToolTip(kvPolicyTooltip(*info));
    auto* model = qobject_cast<QStandardItemModel*>(m_mode->model());
    if (model && model->item(1)) model->item(1)->setEnabled(info->decode);  // "decode" only where simulated
    if (!info->decode) m_mode->setCurrentIndex(0);
    m_quiet = quiet;
    emitParams();
}

KvParams KvPanel::params() const {
    KvParams p;
    p.policy = m_policy->currentData().toString().toStdString();
    p.budget = m_budget->value();
    p.mode = m_mode->currentIndex() == 1 ? KvMode::Decode : KvMode::Prefill;
    p.values = m_form->values();
    return p;
}

void KvPanel::setParams(const KvParams& params) {
    const bool quiet = std::exchange(m_quiet, true);
    const int i = m_policy->findData(QString::fromStdString(params.policy));
    if (i >= 0) m_policy->setCurrentIndex(i);
    if (const KvPolicyInfo* info = kvFindPolicy(m_policies, params.policy)) m_form->setPolicy(*info, params.values);
    m_budget->setValue(int(params.budget));
    m_mode->setCurrentIndex(params.mode == KvMode::Decode ? 1 : 0);
    m_quiet = quiet;
}

void KvPanel::emitParams() {
    if (m_quiet) return;
    updateStepControls();
    emit paramsChanged(params());
}

int KvPanel::continuationTokens() const { return m_contTokens->value(); }
bool KvPanel::greedyContinuation() const { return m_contSource->currentIndex() == 0; }

std::vector<KvParams> KvPanel::sweepParams() const {
    std::vector<int64_t> budgets;
    for (const QString& b : m_sweepBudgets->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qlonglong v = b.trimmed().toLongLong(&ok);
        if (ok && v > 0) budgets.push_back(v);
    }
    std::vector<KvParams> out;
    for (int i = 0; i < m_sweepPolicies->count(); ++i) {
        const QListWidgetItem* item = m_sweepPolicies->item(i);
        if (item->checkState() != Qt::Checked) continue;
        for (int64_t b : budgets) out.push_back({item->text().toStdString(), b, KvMode::Prefill, {}});
    }
    return out;
}

void KvPanel::setSweepPolicies(const QStringList& names) {
    for (int i = 0; i < m_sweepPolicies->count(); ++i) {
        QListWidgetItem* item = m_sweepPolicies->item(i);
        item->setCheckState(names.contains(item->text()) ? Qt::Checked : Qt::Unchecked);
    }
}

void KvPanel::setSweepBudgets(const QString& budgets) { m_sweepBudgets->setText(budgets); }

KvSweepMetric KvPanel::sweepMetric() const { return kAllKvSweepMetrics[std::max(0, m_sweepMetric->currentIndex())]; }
void KvPanel::setSweepLog(bool log) { m_sweepLog->setChecked(log); }
bool KvPanel::sweepLog() const { return m_sweepLog->isChecked(); }

void KvPanel::setSweepMetric(KvSweepMetric metric) {
    m_sweepMetric->setCurrentIndex(int(std::find(std::begin(kAllKvSweepMetrics), std::end(kAllKvSweepMetrics), metric) -
                                       std::begin(kAllKvSweepMetrics)));
}

void KvPanel::setTokens(const attnscope::TokenStrip& tokens) {
    m_tokens = tokens;
    m_strip->setTokens(tokens);
    m_tokenTexts = m_strip->displayTexts();
    m_budgetSlider->setRange(1, std::max<int>(2, int(tokens.ids.size())));
    for (KvKeepMap* m : {m_keepMap, m_mapA, m_mapB, m_diffMap}) m->setColumnLabels(m_tokenTexts);
}

QString KvPanel::tokenText(int64_t t) const {
    return t >= 0 && t < m_tokenTexts.size() ? m_tokenTexts[int(t)] : QString();
}

void KvPanel::setSinkPositions(const std::vector<int64_t>& positions) {
    m_sinks = positions;
    for (KvKeepMap* m : {m_keepMap, m_mapA, m_mapB}) m->setSinks(positions);
}

void KvPanel::setSelection(const KvSelection& selection, const KvLocalMetrics& metrics, const QString& timing) {
    m_selection = selection;
    m_metrics = metrics;
    m_haveSelection = true;
    m_summary->setText(kvSummary(selection, metrics));
    if (!timing.isEmpty()) setStatus(timing);
    updateStepControls();
    showMaps();
    showMetrics();
}

void KvPanel::setCompareSelection(const KvSelection& selection) {
    m_compare = selection;
    m_haveCompare = true;
    showMaps();
}

void KvPanel::setCompare(const KvParams& params, const KvSelection& selection) {
    showCompareParams(params);
    setCompareSelection(selection);
}

void KvPanel::setCompareParams(const KvParams& params) {
    showCompareParams(params);
    emit compareRequested(params);
}

void KvPanel::showCompareParams(const KvParams& params) {
    m_compareParams = params;
    const QString label = kvParamsLabel(params, m_policies);
    m_compareCaption->setText(tr("B = %1").arg(label));
    m_mapBLabel->setText(tr("<b>B</b> (pinned): %1").arg(label.toHtmlEscaped()));
}

void KvPanel::setEndToEnd(const KvEndToEnd& e2e) {
    m_endToEnd = e2e;
    m_haveEndToEnd = true;
    m_e2e->setText(kvEndToEndText(e2e));
    setEndToEndBusy(false);
}

QString KvPanel::endToEndText() const { return m_e2e->text(); }
bool KvPanel::autoEndToEnd() const { return m_e2eAuto->isChecked(); }

void KvPanel::setEndToEndBusy(bool busy, double fraction) {
    m_e2eProgress->setVisible(busy);
    m_e2eProgress->setValue(int(fraction * 100));
    m_e2eCancel->setEnabled(busy);
    if (busy && fraction == 0) m_e2e->setText(tr("running\u2026"));
}

void KvPanel::setSweep(const std::vector<KvSweepPoint>& points) {
    m_sweep = points;
    setSweepBusy(false);
    showSweep();
}

void KvPanel::setSweepBusy(bool busy, double fraction) {
    m_sweepProgress->setVisible(busy);
    m_sweepProgress->setValue(int(fraction * 100));
    m_sweepCancel->setEnabled(busy);
    m_sweepRun->setEnabled(!busy);
}

void KvPanel::setStatus(const QString& text) { m_status->setText(text); }

void KvPanel::clear() {
    m_haveSelection = m_haveCompare = m_haveEndToEnd = false;
    m_selection = m_compare = {};
    m_metrics = {};
    m_endToEnd = {};
    m_rows.clear();
    for (KvKeepMap* m : {m_keepMap, m_mapA, m_mapB, m_diffMap}) {
        m->clearMatrix();
        m->setRegions(0, 0, 0);
    }
    for (int i = 0; i < m_metricsPlot->graphCount(); ++i) m_metricsPlot->graph(i)->data()->clear();
    m_metricsPlot->replot();
    m_strip->clear();
    m_tokens = {};
    m_e2e->setText(tr("\u2014"));
    setEndToEndBusy(false);
    setSweepBusy(false);
    updateStepControls();
}

void KvPanel::selectLayerHead(int layer, int head) {
    if (layer == m_layer && head == m_head && !m_rows.empty()) return;
    m_layer = layer;
    m_head = head;
    showMaps();
}

int KvPanel::step() const { return m_stepSlider->value(); }
void KvPanel::setStep(int step) { m_stepSlider->setValue(step); }
void KvPanel::showTab(int index) { m_tabs->setCurrentIndex(index); }

int64_t KvPanel::mapQuery() const { return m_haveSelection ? kvMapQuery(m_selection, step()) : 0; }

std::vector<int64_t> KvPanel::survivingTokens() const {
    if (!m_haveSelection) return {};
    if (m_head >= 0) return kvKeptKeys(m_selection, m_layer, m_head, mapQuery());
    std::vector<int64_t> out;  // the layer row: tokens some head keeps
    const std::vector<float> mask = kvStripMask(m_selection, m_layer, -1, mapQuery(), kvMapColumns(m_selection));
    for (size_t j = 0; j < mask.size(); ++j)
        if (mask[j] > 0) out.push_back(int64_t(j));
    return out;
}

void KvPanel::updateStepControls() {
    const int steps = m_haveSelection ? kvStepCount(m_selection) : 0;
    const bool decode = m_mode->currentIndex() == 1;
    for (QWidget* w : std::initializer_list<QWidget*>{m_stepSlider, m_play, m_stepLabel}) w->setVisible(decode);
    {
        const QSignalBlocker block(m_stepSlider);
        m_stepSlider->setRange(0, std::max(0, steps - 1));
    }
    if (steps > 0)
        m_stepLabel->setText(tr("step %1 / %2 (query %3)").arg(step() + 1).arg(steps).arg(mapQuery()));
    else m_stepLabel->setText(tr("step \u2014"));
}

void KvPanel::showMaps() {
    if (!m_haveSelection || m_selection.nLayers == 0) return;
    const int layer = std::clamp(m_layer, 0, m_selection.nLayers - 1);
    m_rows = kvMapRows(m_selection, layer);
    const QStringList labels = kvMapRowLabels(m_rows);
    const int64_t q = mapQuery();
    const int current = std::max(0, kvMapRowOf(m_rows, layer, m_head));
    m_mapALabel->setText(tr("<b>A</b> (the controls): %1").arg(kvParamsLabel(params(), m_policies).toHtmlEscaped()));
    const KvCommonRegions regions = kvCommonRegions(m_selection, q);
    const int64_t end = std::min(kvMapColumns(m_selection), q + 1);
    for (KvKeepMap* m : {m_keepMap, m_mapA}) {
        m->setMatrix(kvKeepMatrix(m_selection, m_rows, q));
        m->setRowLabels(labels);
        m->setRegions(regions.prefix, regions.suffix, end);
        m->setCurrentCell(current, std::max(0, m->currentColumn()));
    }
    if (m_haveCompare && m_compare.T == m_selection.T && m_compare.nLayers == m_selection.nLayers) {
        const int64_t qb = kvMapQuery(m_compare, step());
        const KvCommonRegions rb = kvCommonRegions(m_compare, qb);
        m_mapB->setMatrix(kvKeepMatrix(m_compare, m_rows, qb));
        m_mapB->setRowLabels(labels);
        m_mapB->setRegions(rb.prefix, rb.suffix, std::min(kvMapColumns(m_compare), qb + 1));
        // Different modes show different columns: compare the prompt then.
        if (kvMapColumns(m_compare) == kvMapColumns(m_selection) && qb == q) {
            m_diffMap->setMatrix(kvDiffMatrix(m_selection, m_compare, m_rows, q));
            m_diffMap->setRowLabels(labels);
        } else {
            m_diffMap->clearMatrix();
        }
    }
    const std::vector<float> mask = kvStripMask(m_selection, layer, m_head, q, m_strip->count());
    m_strip->setHighlights(mask);
    emit survivorsChanged(mask);
}

void KvPanel::showMetrics() {
    QVector<double> layers;
    for (int l = 0; l < int(m_metrics.layers.size()); ++l) layers << l;
    for (size_t i = 0; i < std::size(kLocalMetrics); ++i)
        m_metricsPlot->graph(int(i))->setData(layers, kvLayerMetric(m_metrics, kLocalMetrics[i]));
    m_metricsPlot->setLayerCount(int(layers.size()));
    m_metricsPlot->yAxis->setRange(0, 1.05);
    m_metricsPlot->graph(2)->rescaleValueAxis(false, true);
    m_metricsPlot->yAxis2->setRange(0, std::max(1e-6, m_metricsPlot->yAxis2->range().upper * 1.1));
    m_metricsPlot->replot();
}

void KvPanel::showSweep() {
    const KvSweepMetric metric = sweepMetric();
    m_sweepPlot->setLogValues(m_sweepLog->isChecked());
    m_sweepPlot->setSeries(kvSweepSeries(m_sweep, metric), kvSweepMetricName(metric));
}

}  // namespace attnscope::widgets
