#include "panels/sinks_panel.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "panels/panel_layout.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "plot/plot_theme.h"
#include "plot/sink_scatter_plot.h"
#include "token_strip.h"

namespace attnscope::widgets {
namespace {

constexpr SinkClass kMarkClasses[3] = {SinkClass::Primary, SinkClass::Secondary, SinkClass::Noise};
constexpr QCPScatterStyle::ScatterShape kMarkShapes[3] = {QCPScatterStyle::ssTriangle, QCPScatterStyle::ssDiamond,
                                                          QCPScatterStyle::ssCircle};
constexpr int kMaxBands = 256;  // selected-token outlines drawn at most
constexpr char kBand[] = "attnscopeBand";

QDoubleSpinBox* thresholdBox(QWidget* parent, const QString& prefix, double step, const QString& help) {
    auto* box = new QDoubleSpinBox(parent);
    box->setRange(0.0, 1.0);
    box->setSingleStep(step);
    box->setDecimals(2);
    box->setPrefix(prefix);
    box->setToolTip(help);
    return box;
}

}  // namespace

SinksPanel::SinksPanel(QWidget* parent) : QWidget(parent) {
    buildPlots();
    // Docked beside the explorer the panel gets ~520 px of a 1600 px window: the levels and
    // the per-layer curves share a row, the selected token and the all-sinks scatter take
    // turns (tabs) at full width.
    QSplitter* levels = makeSplitter(Qt::Horizontal, this, {m_levelMap, m_layerPlot}, {40, 60});
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(m_tokenPlot, tr("Selected token"));
    m_tabs->addTab(buildScatter(), tr("MLP output of all sinks"));
    m_tabs->setTabToolTip(1, m_scatterPlot->toolTip());
    QSplitter* split = makeSplitter(Qt::Vertical, this, {m_tokenMap, levels, m_tabs}, {280, 240, 280});

    m_summary = new QLabel(tr("Run a prompt to find its attention sinks."), this);
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::PlainText);  // token pieces like "<s>" are text, not markup
    m_status = new QLabel(this);
    m_status->setEnabled(false);  // greyed: timings and progress are secondary
    m_tokenInfo = new QLabel(this);
    m_tokenInfo->setWordWrap(true);
    m_tokenInfo->setTextFormat(Qt::RichText);
    m_tokenInfo->setTextInteractionFlags(Qt::TextSelectableByMouse);
    for (QLabel* l : {m_summary, m_status, m_tokenInfo}) l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(buildControls());
    layout->addWidget(m_summary);
    layout->addWidget(new QLabel(sinkMarksLegend(), this));
    layout->addWidget(split, 1);
    layout->addWidget(m_tokenInfo);
    // The causal test of the selected sink (the Interventions panel shows the result).
    auto* test = new QPushButton(tr("Test: ablate the MLP that creates this sink"), this);
    test->setToolTip(tr("Re-run the model with the MLP output that creates the selected sink (or, with none "
                        "selected, the longest-lived secondary sink) ablated at that token, with controls and a "
                        "scale sweep: does the sink vanish?"));
    connect(test, &QPushButton::clicked, this, [this] { emit sinkTestRequested(m_token); });
    layout->addWidget(test, 0, Qt::AlignLeft);
    layout->addWidget(m_status);
    clear();
}

QWidget* SinksPanel::buildControls() {
    auto* box = new QWidget(this);
    m_quantity = new QComboBox(box);
    for (SinkQuantity q : kAllSinkQuantities) {
        m_quantity->addItem(sinkQuantityName(q));
        m_quantity->setItemData(m_quantity->count() - 1, sinkQuantityHelp(q), Qt::ToolTipRole);
    }
    m_epsilon = thresholdBox(box, QStringLiteral("\u03b5 = "), 0.05, sinkParameterHelp("epsilon"));
    m_cos = thresholdBox(box, QStringLiteral("|cos| > "), 0.01, sinkParameterHelp("cos"));
    m_minQuery = new QSpinBox(box);
    m_minQuery->setRange(0, 1 << 30);
    m_minQuery->setPrefix(tr("min query "));
    m_minQuery->setToolTip(sinkParameterHelp("minq"));
    m_rule = new QComboBox(box);
    m_rule->addItems({tr("Rule: auto"), tr("Rule: official"), tr("Rule: relative")});
    m_rule->setToolTip(sinkParameterHelp("rule"));
    m_allLayers = new QCheckBox(tr("All layers"), box);
    m_allLayers->setToolTip(sinkParameterHelp("clipper"));

    // Two rows: one row of six controls is wider than the docked panel.
    auto* rows = new QVBoxLayout(box);
    rows->setContentsMargins(0, 0, 0, 0);
    rows->setSpacing(2);
    for (const auto& widgets :
         {std::initializer_list<QWidget*>{m_quantity, m_epsilon, m_cos},
          std::initializer_list<QWidget*>{m_minQuery, m_rule, m_allLayers}}) {
        auto* row = new QHBoxLayout;
        for (QWidget* w : widgets) row->addWidget(w);
        row->addStretch(1);
        rows->addLayout(row);
    }
    setParams(SinkParams{});

    connect(m_quantity, &QComboBox::currentIndexChanged, this, &SinksPanel::showQuantity);
    auto changed = [this] { emit paramsChanged(params()); };
    connect(m_epsilon, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_cos, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_minQuery, &QSpinBox::valueChanged, this, changed);
    connect(m_rule, &QComboBox::currentIndexChanged, this, changed);
    connect(m_allLayers, &QCheckBox::toggled, this, changed);
    return box;
}

void SinksPanel::buildPlots() {
    m_tokenMap = new MatrixPlot(this);
    m_tokenMap->setAxisTitles(tr("token position (wheel: zoom, drag: pan, Home: reset)"), tr("layer"));
    m_tokenMap->setColumnLabelsVertical(true);
    m_tokenMap->setNumbersWhenDense(false, true);
    m_tokenMap->setZoomable(Qt::Horizontal);
    m_tokenMap->setMinimumHeight(160);
    for (int i = 0; i < 3; ++i) {
        m_marks[i] = m_tokenMap->addGraph();
        m_marks[i]->setName(sinkClassLabel(kMarkClasses[i]));
        makeScatter(m_marks[i], kMarkShapes[i], sinkClassColor(kMarkClasses[i]), 9, Qt::black);
    }
    m_tokenMap->setCellDescriber([this](int l, int t) {
        return sinkCellText(m_result, quantity(), l, t, m_tokenMap->matrix().at(l, t), tokenText(t));
    });
    connect(m_tokenMap, &MatrixPlot::cellClicked, this, [this](int, int t) {
        selectToken(t);
        emit tokenSelected(t);
    });

    m_levelMap = new MatrixPlot(this);
    m_levelMap->setAxisTitles(tr("creation layer"), tr("lifetime (layers)"));
    m_levelMap->setValueTitle(tr("log(1 + tokens)"));
    m_levelMap->setRowsTopDown(false);
    m_levelMap->setToolTip(sinkParameterHelp("levels"));
    m_levelMap->setMinimumSize(160, 150);
    m_levelMap->setCellDescriber([this](int row, int col) { return sinkLevelText(m_result, row, col); });
    connect(m_levelMap, &MatrixPlot::cellClicked, this, [this](int row, int col) {
        const SinkLevel* level = sinkLevelAt(m_result, row, col);
        if (!level) return;
        const QList<qint64> tokens(level->tokens.begin(), level->tokens.end());
        selectTokens(tokens);
        emit tokensSelected(tokens);
    });

    m_layerPlot = new LayerCurvesPlot(QStringLiteral("sink_layers"), this);
    m_layerPlot->setToolTip(sinkParameterHelp("layers"));
    m_layerPlot->yAxis->setLabel(tr("s(p0), w"));
    m_layerPlot->yAxis2->setLabel(tr("new secondary sinks"));
    LayerCurvesPlot::setIntegerTicks(m_layerPlot->yAxis2);
    m_layerPlot->addBars(tr("new secondary"), sinkClassColor(SinkClass::Secondary));
    m_layerPlot->addCurve(tr("primary s(p0)"), seriesColor(0));
    m_layerPlot->addCurve(tr("weakening w"), seriesColor(3));

    m_tokenPlot = new LayerCurvesPlot(QStringLiteral("sink_token"), this);
    m_tokenPlot->setToolTip(sinkParameterHelp("token"));
    m_tokenPlot->yAxis->setLabel(tr("cosine to p0"));
    m_tokenPlot->yAxis2->setLabel(tr("\u2016h\u2016"));
    m_tokenPlot->addCurve(tr("cos h"), seriesColor(0));
    m_tokenPlot->addCurve(tr("\u2016h\u2016"), seriesColor(2), true, Qt::DashLine);
    makeScatter(m_tokenPlot->addGraph(), QCPScatterStyle::ssDisc, seriesColor(0), 9);
    m_tokenPlot->graph(2)->setName(tr("sink layer"));
    m_tokenPlot->addCurve(tr("cos y (MLP output)"), seriesColor(1), false, Qt::DotLine);
    m_tokenPlot->setLegendColumns(4);
}

QWidget* SinksPanel::buildScatter() {
    auto* box = new QWidget(this);
    m_scatterY = new QComboBox(box);
    m_scatterY->setObjectName(QStringLiteral("sinkScatterY"));
    m_scatterY->addItems({tr("MLP \u2016y\u2016 vs sink score"), tr("MLP \u2016y\u2016 vs lifetime")});
    m_scatterY->setToolTip(tr("What the scatter of all detected sinks puts on its vertical axis"));
    m_scatterPlot = new SinkScatterPlot(box);
    auto* column = new QVBoxLayout(box);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(2);
    column->addWidget(m_scatterY, 0, Qt::AlignLeft);
    column->addWidget(m_scatterPlot, 1);
    connect(m_scatterY, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_scatterPlot->setYAxis(i == 1 ? SinkScatterPlot::YAxis::Lifetime : SinkScatterPlot::YAxis::Score);
    });
    return box;
}

SinkParams SinksPanel::params() const {
    SinkParams p = m_params;  // fields without a control (source, BOS candidates) as last set
    p.epsilon = m_epsilon->value();
    p.cosThreshold = m_cos->value();
    p.minQueryPos = m_minQuery->value();
    p.rule = std::array{SinkRule::Auto, SinkRule::Official, SinkRule::Relative}[size_t(m_rule->currentIndex())];
    p.sinkClipper = !m_allLayers->isChecked();
    return p;
}

void SinksPanel::setParams(const SinkParams& p) {
    m_params = p;
    const QSignalBlocker b1(m_epsilon), b2(m_cos), b3(m_minQuery), b4(m_rule), b5(m_allLayers);
    m_allLayers->setChecked(!p.sinkClipper);
    m_epsilon->setValue(p.epsilon);
    m_cos->setValue(p.cosThreshold);
    m_minQuery->setValue(int(p.minQueryPos));
    m_rule->setCurrentIndex(p.rule == SinkRule::Official ? 1 : p.rule == SinkRule::Relative ? 2 : 0);
}

SinkQuantity SinksPanel::quantity() const { return kAllSinkQuantities[size_t(std::max(0, m_quantity->currentIndex()))]; }

void SinksPanel::setQuantity(SinkQuantity q) {
    m_quantity->setCurrentIndex(int(std::find(kAllSinkQuantities.begin(), kAllSinkQuantities.end(), q) -
                                    kAllSinkQuantities.begin()));
}

void SinksPanel::setTokens(const attnscope::TokenStrip& tokens) {
    const PieceStyle style = detectPieceStyle(tokens.pieces);
    m_tokenTexts.clear();
    for (const std::string& piece : tokens.pieces) m_tokenTexts << displayPiece(piece, style);
    m_tokenMap->setColumnLabels(m_tokenTexts);
    m_token = -1;
    m_selected.clear();
}

QString SinksPanel::tokenText(int64_t t) const { return t >= 0 && t < m_tokenTexts.size() ? m_tokenTexts[int(t)] : QString(); }

void SinksPanel::setResult(const SinkResult& result) {
    m_result = result;
    m_summary->setText(sinkSummary(m_result, tokenText(m_result.primary)));
    QStringList layers, lifetimes;
    for (int l = 0; l < m_result.nLayers; ++l) {
        layers << QString::number(l);
        lifetimes << QString::number(l + 1);
    }
    m_tokenMap->setRowLabels(layers);
    m_levelMap->setColumnLabels(layers);
    m_levelMap->setRowLabels(lifetimes);
    showQuantity();
    showMarks();
    showLevels();
    showLayerCurves();
    showToken();
    m_scatterPlot->setScatter(sinkMlpScatter(m_result));
}

void SinksPanel::showQuantity() {
    const SinkQuantity q = quantity();
    m_tokenMap->setValueTitle(sinkQuantityTitle(q));
    m_quantity->setToolTip(sinkQuantityHelp(q));
    if (!hasResult()) return;
    m_tokenMap->setMatrix(sinkQuantityMatrix(m_result, q));
    showSelectionBands();
}

void SinksPanel::showMarks() {
    QVector<double> x, y;
    for (int i = 0; i < 3; ++i) {
        sinkMarkPoints(m_result, kMarkClasses[i], x, y);
        m_marks[i]->setData(x, y, /*alreadySorted=*/true);
    }
    m_tokenMap->replot(QCustomPlot::rpQueuedReplot);
}

QCPGraph* SinksPanel::classMarks(SinkClass cls) const {
    const auto* it = std::find(std::begin(kMarkClasses), std::end(kMarkClasses), cls);
    return it == std::end(kMarkClasses) ? nullptr : m_marks[it - std::begin(kMarkClasses)];
}

void SinksPanel::showLevels() {
    const Matrix2D levels = sinkLevelMatrix(m_result);
    float most = float(std::log1p(1.0));
    for (float v : levels.data)
        if (v > most) most = v;
    m_levelMap->setValueRange(QCPRange(0, most));  // colour 0 means "no tokens", as in the paper
    m_levelMap->setMatrix(levels);
}

void SinksPanel::showLayerCurves() {
    const SinkLayerCurves c = sinkLayerCurves(m_result);
    const int L = int(c.layers.size());
    m_layerPlot->graph(0)->setData(c.layers, c.strength);
    m_layerPlot->graph(1)->setData(c.layers, c.weakening);
    qobject_cast<QCPBars*>(m_layerPlot->plottable(0))->setData(c.layers, c.created);
    m_layerPlot->setLayerCount(L);
    m_layerPlot->yAxis->setRange(0, 1.05);
    const double most = L == 0 ? 1.0 : std::max(1.0, *std::max_element(c.created.cbegin(), c.created.cend()));
    m_layerPlot->yAxis2->setRange(0, most * 1.25);
    // Shade the analysed range [onset, offset): outside it nothing is classified.
    m_layerPlot->clearDecorations();
    QColor shade = palette().color(QPalette::Highlight);
    shade.setAlpha(28);
    if (L > 0) m_layerPlot->addLayerBand(m_result.onset - 0.5, m_result.offset - 0.5, shade);
    m_layerPlot->replot(QCustomPlot::rpQueuedReplot);
}

void SinksPanel::selectToken(int64_t token) {
    // Stepping through a selected level keeps the level's tokens selected.
    if (!m_selected.contains(token)) m_selected = token >= 0 ? QList<qint64>{token} : QList<qint64>{};
    m_token = token;
    showSelectionBands();
    showToken();
}

void SinksPanel::selectTokens(const QList<qint64>& tokens) {
    m_selected = tokens;
    m_token = tokens.isEmpty() ? -1 : tokens.first();
    showSelectionBands();
    showToken();
}

void SinksPanel::showSelectionBands() {
    for (int i = m_tokenMap->itemCount() - 1; i >= 0; --i)
        if (m_tokenMap->item(i)->property(kBand).toBool()) m_tokenMap->removeItem(i);
    for (qint64 t : m_selected.mid(0, kMaxBands)) {
        if (t < 0 || t >= m_result.T) continue;
        auto* band = new QCPItemRect(m_tokenMap);
        band->setProperty(kBand, true);
        band->setBrush(Qt::NoBrush);
        band->setPen(QPen(palette().color(QPalette::Highlight), 2));
        band->topLeft->setCoords(t - 0.5, -0.5);
        band->bottomRight->setCoords(t + 0.5, m_result.nLayers - 0.5);
    }
    m_tokenMap->replot(QCustomPlot::rpQueuedReplot);
}

void SinksPanel::showToken() {
    const SinkTokenCurves c = sinkTokenCurves(m_result, m_token);
    const bool valid = !c.layers.isEmpty();
    const int L = int(m_result.layers.size());
    m_tokenPlot->graph(0)->setData(c.layers, c.cos);
    m_tokenPlot->graph(1)->setData(c.layers, c.norm);
    m_tokenPlot->graph(2)->setData(c.sinkLayers, c.sinkCos);
    m_tokenPlot->graph(3)->setData(c.mlpCos.isEmpty() ? QVector<double>{} : c.layers, c.mlpCos);
    m_tokenPlot->setLayerCount(L);
    m_tokenPlot->yAxis->setRange(-1.05, 1.05);
    if (valid) m_tokenPlot->graph(1)->rescaleValueAxis(false, true);
    // Dashed lines at +- the threshold: beyond them the token counts as a sink.
    m_tokenPlot->clearDecorations();
    for (double sign : {1.0, -1.0})
        m_tokenPlot->addValueLine(sign * m_cos->value(), QPen(palette().color(QPalette::Mid), 1, Qt::DashLine));
    if (!valid) {
        QPen hint(palette().color(QPalette::PlaceholderText));
        hint.setStyle(Qt::NoPen);  // the line is invisible; its label is the hint
        m_tokenPlot->addValueLine(0, hint, tr("Click a token to follow it across layers"));
    }
    if (c.creationLayer >= 0) {
        const bool hasMlp = !c.mlpCos.isEmpty();
        m_tokenPlot->addLayerLine(c.creationLayer, QPen(sinkClassColor(SinkClass::Secondary).darker(130), 1.5, Qt::DashDotLine),
                                  hasMlp ? tr("created: \u2016y\u2016 %1, cos y %2")
                                               .arg(c.mlpNormAtCreation, 0, 'g', 3)
                                               .arg(c.mlpCosAtCreation, 0, 'f', 2)
                                         : tr("created"));
    }
    m_tokenInfo->setText(valid ? sinkTokenDescription(m_result, m_token, tokenText(m_token))
                               : tr("Click a token column, a sink level or a token chip to follow it across layers."));
    m_tokenPlot->replot(QCustomPlot::rpQueuedReplot);
}

QString SinksPanel::tokenInfo() const { return m_tokenInfo->text(); }

void SinksPanel::setStatus(const QString& text) { m_status->setText(text); }

void SinksPanel::clear() {
    m_result = SinkResult{};
    m_inputs.reset();
    m_token = -1;
    m_selected.clear();
    m_summary->setText(tr("Run a prompt to find its attention sinks."));
    m_tokenMap->clearMatrix();
    m_levelMap->clearMatrix();
    for (QCPGraph* g : m_marks) g->data()->clear();
    showLayerCurves();
    showToken();
    m_scatterPlot->setScatter(SinkScatter{});
}

}  // namespace attnscope::widgets
