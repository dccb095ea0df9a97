// The KV panel's three tabs (keep map, budget sweep, A/B compare): their widgets and wiring.
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
#include "panels/panel_layout.h"
#include "plot/kv_keep_map.h"
#include "plot/kv_sweep_plot.h"
#include "plot/layer_curves_plot.h"
#include "plot/plot_theme.h"
#include "token_strip.h"


namespace attnscope::widgets {

QWidget* KvPanel::buildMapTab() {
    auto* tab = new QWidget(this);
    m_keepMap = new KvKeepMap(KvKeepMap::Kind::Keep, tab);
    m_keepMap->setMinimumHeight(180);
    connect(m_keepMap, &MatrixPlot::currentCellChanged, this, [this](int row, int) {
        if (row < 0 || row >= int(m_rows.size())) return;
        selectLayerHead(m_rows[size_t(row)].layer, m_rows[size_t(row)].head);
        emit layerHeadSelected(m_layer, m_head);
    });
    describeMap(m_keepMap, &m_selection);
    m_strip = new TokenStrip(tab);
    auto* scroll = new QScrollArea(tab);
    scroll->setWidgetResizable(true);
    scroll->setWidget(m_strip);
    scroll->setMinimumHeight(60);
    scroll->setMaximumHeight(110);
    scroll->setToolTip(tr("The tokens the selected layer/head still holds (coloured) and those it evicted (plain)."));

    m_metricsPlot = new LayerCurvesPlot(QStringLiteral("kv-local-metrics"), tab);
    m_metricsPlot->yAxis->setLabel(tr("\u03c1, output rel. error"));
    m_metricsPlot->yAxis2->setLabel(tr("residual error"));
    m_metricsPlot->setLegendColumns(3);
    m_metricsPlot->setToolTip(kvLocalMetricHelp(KvLocalMetric::RetainedMass) + QStringLiteral("<br>") +
                              kvLocalMetricHelp(KvLocalMetric::OutputRelErr) + QStringLiteral("<br>") +
                              kvLocalMetricHelp(KvLocalMetric::ResidErr));
    for (size_t i = 0; i < std::size(kLocalMetrics); ++i)
        m_metricsPlot->addCurve(kvLocalMetricName(kLocalMetrics[i]), seriesColor(int(i)),
                                kLocalMetrics[i] == KvLocalMetric::ResidErr,
                                kLocalMetrics[i] == KvLocalMetric::ResidErr ? Qt::DashLine : Qt::SolidLine);

    m_e2e = new QLabel(tab);
    m_e2e->setWordWrap(true);
    m_e2e->setToolTip(tr("Reference Part 3 \u00a73.2: the continuation re-run with \u2212\u221e logits on evicted "
                         "keys at their original positions; KL(P_full \u2016 P_compressed) of the next-token "
                         "distributions, top-1 agreement, and the continuation's perplexity."));
    m_e2eRun = new QPushButton(tr("Run end-to-end"), tab);
    m_e2eCancel = new QPushButton(tr("Cancel"), tab);
    m_e2eAuto = new QCheckBox(tr("auto"), tab);
    m_e2eAuto->setToolTip(tr("Re-run end to end after every edit"));
    m_e2eAuto->setChecked(true);
    m_e2eProgress = new QProgressBar(tab);
    m_e2eProgress->setRange(0, 100);
    m_e2eProgress->setMaximumWidth(160);
    connect(m_e2eRun, &QPushButton::clicked, this, [this] { emit endToEndRequested(params()); });
    connect(m_e2eCancel, &QPushButton::clicked, this, &KvPanel::cancelEndToEnd);
    auto* e2eRow = new QHBoxLayout;
    e2eRow->addWidget(new QLabel(tr("<b>End to end:</b>"), tab));
    e2eRow->addWidget(m_e2e, 1);
    for (QWidget* w : std::initializer_list<QWidget*>{m_e2eProgress, m_e2eRun, m_e2eCancel, m_e2eAuto}) e2eRow->addWidget(w);

    QSplitter* split = makeSplitter(Qt::Vertical, tab, {m_keepMap, m_metricsPlot}, {440, 220});
    auto* layout = new QVBoxLayout(tab);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split, 1);
    layout->addWidget(new QLabel(tr("Tokens the selected layer/head keeps (coloured) and evicts (plain):"), tab));
    layout->addWidget(scroll);
    layout->addLayout(e2eRow);
    return tab;
}

QWidget* KvPanel::buildSweepTab() {
    auto* tab = new QWidget(this);
    m_sweepPolicies = new QListWidget(tab);
    m_sweepPolicies->setMaximumWidth(190);
    m_sweepBudgets = new QLineEdit(QStringLiteral("16,32,64,128,256,512"), tab);
    m_sweepBudgets->setToolTip(tr("Budgets B, comma-separated; each policy runs with its default parameters in "
                                  "prefill mode, then the continuation end to end."));
    m_sweepMetric = new QComboBox(tab);
    for (KvSweepMetric m : kAllKvSweepMetrics) m_sweepMetric->addItem(kvSweepMetricName(m));
    m_sweepMetric->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_sweepMetric->setMinimumContentsLength(16);
    m_sweepLog = new QCheckBox(tr("log y"), tab);
    m_sweepLog->setChecked(true);
    m_sweepRun = new QPushButton(tr("Run sweep"), tab);
    m_sweepCancel = new QPushButton(tr("Cancel"), tab);
    m_sweepProgress = new QProgressBar(tab);
    m_sweepProgress->setRange(0, 100);
    m_sweepPlot = new KvSweepPlot(tab);
    connect(m_sweepMetric, &QComboBox::currentIndexChanged, this, &KvPanel::showSweep);
    connect(m_sweepLog, &QCheckBox::toggled, this, &KvPanel::showSweep);
    connect(m_sweepRun, &QPushButton::clicked, this, [this] {
        const auto p = sweepParams();
        if (p.empty()) setStatus(tr("Check at least one policy and give budgets like 16,64,256."));
        else emit sweepRequested(p);
    });
    connect(m_sweepCancel, &QPushButton::clicked, this, &KvPanel::cancelSweep);

    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Budgets"), tab));
    row->addWidget(m_sweepBudgets, 1);
    for (QWidget* w : std::initializer_list<QWidget*>{m_sweepMetric, m_sweepLog, m_sweepProgress, m_sweepRun, m_sweepCancel})
        row->addWidget(w);
    auto* caption = new QHBoxLayout;
    caption->addWidget(new QLabel(tr("Policies"), tab));
    QWidget* policies = controlsAbove(new QWidget(tab), caption, m_sweepPolicies);
    return controlsAbove(tab, row, makeSplitter(Qt::Horizontal, tab, {policies, m_sweepPlot}, {190, 600}));
}

QWidget* KvPanel::buildCompareTab() {
    auto* tab = new QWidget(this);
    auto* pin = new QPushButton(tr("Pin current as B"), tab);
    pin->setToolTip(tr("Keep the current policy and parameters as B; A keeps following the controls."));
    m_compareCaption = new QLabel(tr("Pin a parameter set as B, then change A."), tab);
    m_compareCaption->setWordWrap(true);
    m_mapA = new KvKeepMap(KvKeepMap::Kind::Keep, tab);
    m_mapB = new KvKeepMap(KvKeepMap::Kind::Keep, tab);
    m_diffMap = new KvKeepMap(KvKeepMap::Kind::Difference, tab);
    describeMap(m_mapA, &m_selection);
    describeMap(m_mapB, &m_compare);
    describeMap(m_diffMap, nullptr);
    connect(pin, &QPushButton::clicked, this, [this] { setCompareParams(params()); });
    // Each map under a line saying what it is: the maps themselves look alike.
    m_mapALabel = new QLabel(tab);
    m_mapBLabel = new QLabel(tr("<b>B</b>: pin a parameter set first"), tab);
    auto* diffLabel = new QLabel(tr("<b>A − B</b>: <span style='color:#b2182b'>red</span> = kept by A only, "
                                    "<span style='color:#2166ac'>blue</span> = kept by B only, white = the same"),
                                 tab);
    auto* split = new QSplitter(Qt::Vertical, tab);
    for (auto [m, label] : {std::pair{m_mapA, m_mapALabel}, {m_mapB, m_mapBLabel}, {m_diffMap, diffLabel}}) {
        m->setMinimumHeight(110);
        label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
        auto* box = new QWidget(split);
        auto* v = new QVBoxLayout(box);
        v->setContentsMargins(0, 2, 0, 0);
        v->setSpacing(0);
        v->addWidget(label);
        v->addWidget(m, 1);
        split->addWidget(box);
    }
    auto* row = new QHBoxLayout;
    row->addWidget(pin);
    row->addWidget(m_compareCaption, 1);
    return controlsAbove(tab, row, split);
}

}  // namespace attnscope::widgets
