#include "panels/quant_panel.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include "panels/panel_layout.h"
#include "plot/colormaps.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {
namespace {

const char* const kSchemes[] = {"rtn-sym", "rtn-asym", "mxint", "nf4"};
// The rank a fresh lab opens at: at rank 0 every reconstruction equals RTN, so the first
// view would compare RTN with itself.
constexpr int kDefaultRank = 32;
// Names as core spells them (widgets never link core, so no kvMethodName here).
const std::pair<KvMethod, const char*> kKvMethods[] = {
    {KvMethod::Kivi, "KIVI"}, {KvMethod::Hadamard, "Hadamard"}, {KvMethod::Oscar, "OSCAR"}, {KvMethod::ZipCache, "ZipCache"}};
const std::pair<ScoreGroups, const char*> kScoreGroups[] = {
    {ScoreGroups::PerThread, "per thread"}, {ScoreGroups::PerWarp, "per warp"}, {ScoreGroups::PerBlock, "per block"}};

QComboBox* methodCombo(QWidget* parent, ReconMethod current) {
    auto* box = new QComboBox(parent);
    for (ReconMethod m : kPanelMethods) box->addItem(reconMethodLabel(m), int(m));
    box->setCurrentIndex(box->findData(int(current)));
    box->setToolTip(quantHelp("method"));
    return box;
}

QLabel* caption(const QString& text, QWidget* parent) { return new QLabel(text, parent); }

QColor methodColor(ReconMethod m) { return seriesColor(int(m)); }  // None keeps tableau blue

}  // namespace

QuantPanel::QuantPanel(QWidget* parent) : QWidget(parent) {
    m_bars = new LayerCurvesPlot(QStringLiteral("quant_error_by_layer"), this);
    m_bars->setToolTip(quantHelp("bars"));
    m_barsA = m_bars->addBars(QString(), methodColor(ReconMethod::None), false);
    m_barsB = m_bars->addBars(QString(), methodColor(ReconMethod::QeraExact), false);
    auto* group = new QCPBarsGroup(m_bars);
    for (QCPBars* b : {m_barsA, m_barsB}) {
        b->setWidth(0.38);
        b->setBarsGroup(group);
    }
    connect(m_bars, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable* p, int index, QMouseEvent*) {
        const int layer = int(std::lround(static_cast<QCPBars*>(p)->data()->at(index)->key));
        // That layer's matrix of the bars' component, else of the selected matrix's component.
        QString component = m_component->currentData().toString();
        if (component.isEmpty() && selectedMatrix() >= 0)
            component = QString::fromStdString(m_lab.matrices[size_t(selectedMatrix())].component);
        selectMatrix(findQuantMatrix(m_lab, layer, component));
        emit layerSelected(layer);
    });

    // The legend gets a row above the data (LayerCurvesPlot), so it never hides a curve.
    auto* curves = new LayerCurvesPlot(QStringLiteral("quant_error_vs_rank"), this);
    curves->setLegendColumns(3);
    m_curves = curves;
    m_curves->setToolTip(quantHelp("curves"));
    m_curves->xAxis->setLabel(tr("rank k of the correction"));
    m_curves->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_curves->xAxis->setSubTicks(true);
    m_rankLine = new QCPItemStraightLine(m_curves);
    m_rankLine->setPen(QPen(QColor(0x80, 0x80, 0x80), 1.2, Qt::DashLine));

    m_tokenMap = new MatrixPlot(this);
    m_tokenMap->setAxisTitles(tr("token"), tr("layer"));
    m_tokenMap->setNumbersWhenDense(false, true);
    m_tokenMap->setColumnLabelsVertical(true);
    m_tokenMap->setToolTip(quantHelp("tokens"));
    m_tokenMap->setGradient(makeGradient(Colormap::Magma));
    m_headMap = new MatrixPlot(this);
    m_headMap->setAxisTitles(tr("key token"), tr("query token"));
    m_headMap->setNumbersWhenDense(true, true);
    m_headMap->setToolTip(quantHelp("headmap"));
    m_headMap->setGradient(makeGradient(Colormap::Magma));
    m_headMap->setValueTitle(tr("|\u015c \u2212 S| (logit units)"));
    m_headMap->setZoomable(Qt::Horizontal | Qt::Vertical);
    connect(m_tokenMap, &MatrixPlot::cellClicked, this, [this](int row, int) {
        if (row == m_mapLayer) return;
        m_mapLayer = row;
        emit layerSelected(row);
        requestHeadMap();
    });

    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(200);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_status = new QLabel(this);
    m_status->setEnabled(false);
    m_evaluation = new QLabel(this);
    m_evaluation->setWordWrap(true);
    m_kvSummary = new QLabel(this);
    m_kvSummary->setWordWrap(true);
    connect(m_cancel, &QPushButton::clicked, this, &QuantPanel::cancelRequested);

    auto* weightPlots = new QSplitter(Qt::Horizontal, this);
    weightPlots->addWidget(m_bars);
    weightPlots->addWidget(m_curves);
    weightPlots->setSizes({560, 440});
    auto* kvPlots = new QSplitter(Qt::Horizontal, this);
    kvPlots->addWidget(m_tokenMap);
    kvPlots->addWidget(m_headMap);
    kvPlots->setSizes({600, 400});
    auto* weights = new QWidget(this);
    auto* wl = new QVBoxLayout(weights);
    wl->setContentsMargins(0, 0, 0, 0);
    wl->addWidget(buildWeightControls());
    wl->addWidget(weightPlots, 1);
    wl->addWidget(m_evaluation);
    auto* kv = new QWidget(this);
    auto* kl = new QVBoxLayout(kv);
    kl->setContentsMargins(0, 0, 0, 0);
    kl->addWidget(buildKvControls());
    kl->addWidget(m_kvSummary);
    kl->addWidget(kvPlots, 1);
    QSplitter* split = makeSplitter(Qt::Vertical, this, {weights, kv});
    auto* statusRow = new QHBoxLayout;
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_progress);
    statusRow->addWidget(m_cancel);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(split, 1);
    layout->addLayout(statusRow);
    clear();
}

QWidget* QuantPanel::buildWeightControls() {
    auto* box = new QWidget(this);
    auto* g = new QGridLayout(box);
    g->setContentsMargins(0, 0, 0, 0);
    m_scheme = new QComboBox(box);
    for (const char* s : kSchemes) m_scheme->addItem(QString::fromLatin1(s));
    m_scheme->setToolTip(quantHelp("scheme"));
    m_bits = new QSpinBox(box);
    m_bits->setRange(2, 8);
    m_bits->setValue(4);
    m_bits->setSuffix(tr(" bit"));
    m_bits->setObjectName(QStringLiteral("bits"));
    m_group = new QSpinBox(box);
    m_group->setRange(0, 4096);
    m_group->setSpecialValueText(tr("default"));
    m_group->setToolTip(quantHelp("group"));
    m_error = new QComboBox(box);
    m_error->addItem(tr("output rel. error"), int(QuantErrorKind::Output));
    m_error->addItem(tr("weight rel. error"), int(QuantErrorKind::Weight));
    m_error->setToolTip(quantHelp("error"));
    m_methodA = methodCombo(box, ReconMethod::None);
    m_methodB = methodCombo(box, ReconMethod::QeraExact);
    m_component = new QComboBox(box);
    m_component->setToolTip(tr("Which matrices the per-layer bars average"));
    m_matrix = new QComboBox(box);
    m_matrix->setToolTip(tr("The matrix whose error-versus-rank curves are shown"));
    m_rank = new QSlider(Qt::Horizontal, box);
    m_rank->setToolTip(quantHelp("rank"));
    m_rank->setMinimumWidth(160);
    m_rankLabel = new QLabel(box);
    m_rankLabel->setMinimumWidth(m_rankLabel->fontMetrics().horizontalAdvance(QStringLiteral("rank 0000")));
    m_evaluate = new QPushButton(tr("Perplexity && KL"), box);
    m_evaluate->setToolTip(quantHelp("evaluate"));

    int c = 0;
    for (auto [label, w] : {std::pair<QString, QWidget*>{tr("Scheme"), m_scheme}, {tr("Bits"), m_bits},
                            {tr("Group"), m_group}, {tr("Error"), m_error}, {tr("A"), m_methodA}, {tr("B"), m_methodB}}) {
        g->addWidget(caption(label, box), 0, c++);
        g->addWidget(w, 0, c++);
    }
    g->addWidget(caption(tr("Bars"), box), 1, 0);
    g->addWidget(m_component, 1, 1);
    g->addWidget(caption(tr("Matrix"), box), 1, 2);
    g->addWidget(m_matrix, 1, 3, 1, 2);
    g->addWidget(m_rank, 1, 5, 1, 4);
    g->addWidget(m_rankLabel, 1, 9);
    g->addWidget(m_evaluate, 1, 10, 1, 2);
    g->setColumnStretch(12, 1);

    auto weightsChanged = [this] { emit weightParamsChanged(weightParams()); };
    connect(m_scheme, &QComboBox::currentIndexChanged, this, weightsChanged);
    connect(m_bits, &QSpinBox::valueChanged, this, weightsChanged);
    connect(m_group, &QSpinBox::valueChanged, this, weightsChanged);
    for (QComboBox* b : {m_error, m_methodA, m_methodB})
        connect(b, &QComboBox::currentIndexChanged, this, [this] {
            showBars();
            showCurves();
        });
    connect(m_component, &QComboBox::currentIndexChanged, this, &QuantPanel::showBars);
    connect(m_matrix, &QComboBox::currentIndexChanged, this, &QuantPanel::onMatrixChosen);
    connect(m_rank, &QSlider::valueChanged, this, [this](int r) {
        m_rankLabel->setText(tr("rank %1").arg(r));
        showBars();
        showRankLine();
        emit rankChanged(r);
    });
    connect(m_evaluate, &QPushButton::clicked, this, [this] { emit evaluateRequested(weightParams(), methodB(), rank()); });
    return box;
}

QWidget* QuantPanel::buildKvControls() {
    auto* box = new QWidget(this);
    auto* h = new QHBoxLayout(box);
    h->setContentsMargins(0, 0, 0, 0);
    m_kvMode = new QComboBox(box);
    m_kvMode->addItems({tr("KV cache"), tr("Q/K scores (SageAttention2)")});
    m_kvMode->setToolTip(quantHelp("kv"));
    m_kvMethod = new QComboBox(box);
    for (auto [m, name] : kKvMethods) m_kvMethod->addItem(QString::fromLatin1(name), int(m));
    m_kvMethod->setToolTip(quantHelp("kv"));
    m_kvBits = new QSpinBox(box);
    m_kvBits->setRange(1, 8);
    m_kvBits->setValue(2);
    m_kvBits->setSuffix(tr(" bit"));
    m_scoreBits = new QComboBox(box);
    m_scoreBits->addItem(QStringLiteral("INT8"), 8);
    m_scoreBits->addItem(QStringLiteral("INT4"), 4);
    m_groups = new QComboBox(box);
    for (auto [gr, name] : kScoreGroups) m_groups->addItem(tr(name), int(gr));
    m_smoothK = new QCheckBox(tr("K smoothing"), box);
    m_smoothK->setChecked(true);
    m_smoothQ = new QCheckBox(tr("Q smoothing"), box);
    for (QWidget* w : std::initializer_list<QWidget*>{m_scoreBits, m_groups, m_smoothK, m_smoothQ})
        w->setToolTip(quantHelp("smoothing"));
    m_tokenKind = new QComboBox(box);
    for (TokenErrorKind k : {TokenErrorKind::QueryOutput, TokenErrorKind::KeyShare, TokenErrorKind::KeyRelErr,
                             TokenErrorKind::ValueRelErr})
        m_tokenKind->addItem(tokenErrorLabel(k), int(k));
    m_tokenKind->setToolTip(quantHelp("tokens"));
    m_head = new QSpinBox(box);
    m_head->setPrefix(tr("head "));
    m_head->setToolTip(quantHelp("headmap"));
    for (QWidget* w : std::initializer_list<QWidget*>{m_kvMode, m_kvMethod, m_kvBits, m_scoreBits, m_groups, m_smoothK,
                                                      m_smoothQ, m_tokenKind, m_head})
        h->addWidget(w);
    h->addStretch(1);

    auto changed = [this] {
        const bool scores = m_kvMode->currentIndex() == 1;
        for (QWidget* w : std::initializer_list<QWidget*>{m_kvMethod, m_kvBits}) w->setVisible(!scores);
        for (QWidget* w : std::initializer_list<QWidget*>{m_scoreBits, m_groups, m_smoothK, m_smoothQ}) w->setVisible(scores);
        emit kvParamsChanged(kvParams());
    };
    connect(m_kvMode, &QComboBox::currentIndexChanged, this, changed);
    connect(m_kvMethod, &QComboBox::currentIndexChanged, this, changed);
    connect(m_kvBits, &QSpinBox::valueChanged, this, changed);
    connect(m_scoreBits, &QComboBox::currentIndexChanged, this, changed);
    connect(m_groups, &QComboBox::currentIndexChanged, this, changed);
    connect(m_smoothK, &QCheckBox::toggled, this, changed);
    connect(m_smoothQ, &QCheckBox::toggled, this, changed);
    connect(m_tokenKind, &QComboBox::currentIndexChanged, this, &QuantPanel::showTokenMap);
    connect(m_head, &QSpinBox::valueChanged, this, [this](int head) {
        m_mapHead = head;
        requestHeadMap();
    });
    for (QWidget* w : std::initializer_list<QWidget*>{m_scoreBits, m_groups, m_smoothK, m_smoothQ}) w->setVisible(false);
    return box;
}

WeightQuantParams QuantPanel::weightParams() const {
    WeightQuantParams p;
    p.scheme = m_scheme->currentText().toStdString();
    p.bits = m_bits->value();
    p.group = m_group->value();
    return p;
}

KvPanelParams QuantPanel::kvParams() const {
    KvPanelParams p;
    p.scores = m_kvMode->currentIndex() == 1;
    p.kv.method = KvMethod(m_kvMethod->currentData().toInt());
    p.kv.bits = m_kvBits->value();
    p.score.bits = m_scoreBits->currentData().toInt();
    p.score.groups = ScoreGroups(m_groups->currentData().toInt());
    p.score.smoothK = m_smoothK->isChecked();
    p.score.smoothQ = m_smoothQ->isChecked();
    return p;
}

ReconMethod QuantPanel::methodA() const { return ReconMethod(m_methodA->currentData().toInt()); }
ReconMethod QuantPanel::methodB() const { return ReconMethod(m_methodB->currentData().toInt()); }
QuantErrorKind QuantPanel::errorKind() const { return QuantErrorKind(m_error->currentData().toInt()); }
QString QuantPanel::componentFilter() const { return m_component->currentData().toString(); }
void QuantPanel::setComponentFilter(const QString& component) {
    m_component->setCurrentIndex(std::max(0, m_component->findData(component)));
}
int QuantPanel::rank() const { return m_rank->value(); }
void QuantPanel::setRank(int rank) { m_rank->setValue(rank); }
int QuantPanel::selectedMatrix() const { return m_matrix->currentIndex(); }

void QuantPanel::setMethods(ReconMethod a, ReconMethod b) {
    const QSignalBlocker ba(m_methodA), bb(m_methodB);
    m_methodA->setCurrentIndex(m_methodA->findData(int(a)));
    m_methodB->setCurrentIndex(m_methodB->findData(int(b)));
    showBars();
    showCurves();
}

void QuantPanel::setErrorKind(QuantErrorKind kind) { m_error->setCurrentIndex(m_error->findData(int(kind))); }

void QuantPanel::setLab(const QuantLabView& lab) {
    const int keep = std::max(0, m_matrix->currentIndex());
    const bool fresh = m_lab.matrices.empty();
    m_lab = lab;
    {
        const QSignalBlocker b1(m_component), b2(m_matrix), b3(m_rank), b4(m_scheme), b5(m_bits), b6(m_group);
        if (!m_lab.matrices.empty()) {  // the controls say what the tables are for
            m_scheme->setCurrentText(QString::fromStdString(m_lab.quant.scheme));
            m_bits->setValue(m_lab.quant.bits);
            m_group->setValue(std::max(0, m_lab.quant.group));
        }
        const QString component = m_component->currentData().toString();
        m_component->clear();
        m_component->addItem(tr("all matrices"), QString());
        for (const QString& c : quantComponents(m_lab)) m_component->addItem(tr("%1 only").arg(c), c);
        m_component->setCurrentIndex(std::max(0, m_component->findData(component)));
        m_matrix->clear();
        for (const QuantMatrix& m : m_lab.matrices) m_matrix->addItem(quantMatrixLabel(m));
        m_matrix->setCurrentIndex(std::min(keep, m_matrix->count() - 1));
        m_rank->setRange(0, m_lab.maxRank());
        if (fresh) m_rank->setValue(std::min(kDefaultRank, m_lab.maxRank()));
    }
    m_rankLabel->setText(tr("rank %1").arg(rank()));
    m_bars->setLayerCount(m_lab.nLayers());
    showBars();
    showCurves();
}

void QuantPanel::selectMatrix(int index) {
    if (index >= 0 && index < m_matrix->count()) m_matrix->setCurrentIndex(index);
}

void QuantPanel::onMatrixChosen() {
    const int i = m_matrix->currentIndex();
    if (i >= 0 && size_t(i) < m_lab.matrices.size()) emit layerSelected(m_lab.matrices[size_t(i)].layer);
    showCurves();
}

void QuantPanel::showBars() {
    const int r = rank();
    const QuantErrorKind kind = errorKind();
    const QString component = m_component->currentData().toString();
    double hi = 0;
    for (auto [bars, method] : {std::pair{m_barsA, methodA()}, std::pair{m_barsB, methodB()}}) {
        const std::vector<double> e = quantLayerErrors(m_lab, method, r, kind, component);
        QVector<double> keys, values;
        for (size_t l = 0; l < e.size(); ++l) {
            if (!std::isfinite(e[l])) continue;
            keys << double(l);
            values << e[l];
            hi = std::max(hi, e[l]);
        }
        bars->setData(keys, values, true);
        bars->setName(method == ReconMethod::None ? reconMethodLabel(method)
                                                  : tr("%1, rank %2").arg(reconMethodLabel(method)).arg(r));
        QColor fill = methodColor(method);
        fill.setAlpha(bars == m_barsA ? 150 : 220);
        bars->setBrush(fill);
    }
    m_bars->yAxis->setLabel(tr("mean %1 (%2)").arg(m_error->currentText(), component.isEmpty() ? tr("all") : component));
    m_bars->yAxis->setRange(0, hi > 0 ? hi * 1.1 : 1);
    m_bars->replot(QCustomPlot::rpQueuedReplot);
}

void QuantPanel::showCurves() {
    m_curves->clearGraphs();
    const int i = m_matrix->currentIndex();
    const QuantErrorKind kind = errorKind();
    double hi = 0;
    int maxRank = 1;
    if (i >= 0 && size_t(i) < m_lab.matrices.size()) {
        maxRank = std::max(1, m_lab.maxRank(size_t(i)));
        for (ReconMethod m : kPanelMethods) {
            const std::vector<double> c = quantRankCurve(m_lab, size_t(i), m, kind);
            if (c.empty()) continue;
            QCPGraph* g = m_curves->addGraph();
            g->setName(reconMethodLabel(m));
            const bool highlighted = m == methodA() || m == methodB();
            g->setPen(QPen(methodColor(m), highlighted ? 2.5 : 1.5, m == ReconMethod::None ? Qt::DashLine : Qt::SolidLine));
            QVector<double> x(qsizetype(c.size())), y(qsizetype(c.size()));
            for (size_t k = 0; k < c.size(); ++k) {
                x[qsizetype(k)] = double(k);
                y[qsizetype(k)] = c[k];
                if (std::isfinite(c[k])) hi = std::max(hi, c[k]);
            }
            g->setData(x, y, true);
        }
    }
    m_curves->yAxis->setLabel(tr("%1 of %2").arg(m_error->currentText(),
                                                 i >= 0 ? m_matrix->currentText().section(QLatin1Char(' '), 0, 1) : tr("matrix")));
    m_curves->xAxis->setRange(0, maxRank);
    m_curves->yAxis->setRange(0, hi > 0 ? hi * 1.05 : 1);
    showRankLine();
}

void QuantPanel::showRankLine() {
    m_rankLine->point1->setCoords(rank(), 0);
    m_rankLine->point2->setCoords(rank(), 1);
    m_curves->replot(QCustomPlot::rpQueuedReplot);
}

void QuantPanel::setEvaluation(const QString& text) { m_evaluation->setText(text); }

void QuantPanel::setKv(const AttnQuantResult& result, const QStringList& tokens, const std::vector<int64_t>& sinks) {
    m_kv = result;
    m_tokens = tokens;
    m_sinks = sinks;
    m_kvSummary->setText(kvSummaryText(m_kv));
    {
        const QSignalBlocker b(m_head);
        m_head->setRange(0, std::max(0, m_kv.nHeads - 1));
    }
    m_mapLayer = std::clamp(m_mapLayer, 0, std::max(0, m_kv.nLayers - 1));
    QStringList rows;
    for (int l = 0; l < m_kv.nLayers; ++l) rows << QString::number(l);
    m_tokenMap->setRowLabels(rows);
    QStringList cols;
    for (int64_t t = 0; t < m_kv.T; ++t) {
        const QString piece = t < tokens.size() ? tokens[qsizetype(t)] : QString::number(t);
        cols << (std::find(sinks.begin(), sinks.end(), t) != sinks.end() ? QStringLiteral("\u2693") + piece : piece);
    }
    m_tokenMap->setColumnLabels(cols);
    m_tokenMap->setCellDescriber([this](int row, int col) {
        const Matrix2D& m = m_tokenMap->matrix();
        const bool sink = std::find(m_sinks.begin(), m_sinks.end(), int64_t(col)) != m_sinks.end();
        return tr("layer %1, token %2 \u201c%3\u201d%4\n%5: %6")
            .arg(row).arg(col).arg(m_tokens.value(col)).arg(sink ? tr(" (attention sink)") : QString())
            .arg(m_tokenKind->currentText()).arg(m.at(row, col), 0, 'g', 4);
    });
    showTokenMap();    requestHeadMap();  // the selected head under the new parameters
}

void QuantPanel::showTokenMap() {
    const auto kind = TokenErrorKind(m_tokenKind->currentData().toInt());
    m_tokenMap->setValueTitle(tokenErrorLabel(kind));
    // Sinks: a dashed outline around their columns (drawn over the cells).
    for (int i = m_tokenMap->itemCount() - 1; i >= 0; --i)
        if (m_tokenMap->item(i)->property("sinkMark").toBool()) m_tokenMap->removeItem(i);
    for (int64_t s : m_sinks) {
        auto* rect = new QCPItemRect(m_tokenMap);
        rect->setProperty("sinkMark", true);
        rect->setPen(QPen(QColor(0x2c, 0xd8, 0xff), 2.5, Qt::DashLine));
        rect->setBrush(Qt::NoBrush);
        rect->topLeft->setCoords(double(s) - 0.5, -0.5);
        rect->bottomRight->setCoords(double(s) + 0.5, m_kv.nLayers - 0.5);
    }
    m_tokenMap->setAxisTitles(m_sinks.empty() ? tr("token") : tr("token (cyan dashed columns: attention sinks)"), tr("layer"));
    if (m_kv.nLayers > 0 && m_kv.T > 0) m_tokenMap->setMatrix(tokenErrorMap(m_kv, kind));
    else m_tokenMap->clearMatrix();
}

void QuantPanel::setHeadMap(int layer, int head, const Matrix2D& map) {
    if (layer != m_mapLayer || head != m_mapHead) return;  // an answer to an earlier request
    m_headMap->setValueTitle(tr("|\u015c \u2212 S|, layer %1 head %2 (logits)").arg(layer).arg(head));
    QStringList labels;
    for (int64_t t = 0; t < map.rows; ++t) labels << m_tokens.value(qsizetype(t), QString::number(t));
    m_headMap->setRowLabels(labels);
    m_headMap->setColumnLabels(labels);
    m_headMap->setCellDescriber([this](int row, int col) {
        const double v = m_headMap->matrix().at(row, col);
        return std::isfinite(v) ? tr("query %1 \u201c%2\u201d, key %3 \u201c%4\u201d: |\u015c \u2212 S| = %5")
                                      .arg(row).arg(m_tokens.value(row)).arg(col).arg(m_tokens.value(col)).arg(v, 0, 'g', 4)
                                : tr("masked (causal)");
    });
    m_headMap->setMatrix(map);
}

void QuantPanel::followLayerHead(int layer, int head) {
    if (layer == m_mapLayer && head == m_mapHead) return;
    m_mapLayer = layer;
    {
        const QSignalBlocker b(m_head);
        m_head->setValue(head);
    }
    m_mapHead = m_head->value();
    requestHeadMap();
}

void QuantPanel::requestHeadMap() {
    if (m_kv.nLayers > 0) emit headMapRequested(m_mapLayer, m_mapHead, kvParams());
}

void QuantPanel::setProgress(const QString& what, double fraction) {
    m_status->setText(what);
    m_progress->setVisible(true);
    m_cancel->setVisible(true);
    m_progress->setRange(0, fraction < 0 ? 0 : 100);
    m_progress->setValue(int(std::clamp(fraction, 0.0, 1.0) * 100));
}

void QuantPanel::setDone(const QString& status) {
    m_status->setText(status);
    m_progress->setVisible(false);
    m_cancel->setVisible(false);
}

void QuantPanel::clear() {
    setLab({});
    m_kv = {};
    m_sinks.clear();
    m_tokens.clear();
    m_tokenMap->clearMatrix();
    m_headMap->clearMatrix();
    m_evaluation->setText(tr("Run a prompt: it calibrates R = X\u1d40X/N for every linear layer's input."));
    m_kvSummary->clear();
    setDone(QString());
}

}  // namespace attnscope::widgets
