#include "panels/attention_maps_panel.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include "panels/panel_layout.h"
#include "token_strip.h"

namespace attnscope::widgets {

AttentionMapsPanel::AttentionMapsPanel(QWidget* parent) : QWidget(parent) {
    m_layer = new QSpinBox(this);
    m_layer->setPrefix(tr("Layer "));
    // Wide until a model is known, so a layer/head chosen before loading survives.
    m_layer->setRange(0, 9999);
    m_layer->setEnabled(false);
    m_layer->setToolTip(tr("Layer (Page Up / Page Down)"));
    m_head = new QSpinBox(this);
    m_head->setPrefix(tr("Head "));
    m_head->setRange(-1, 9999);
    m_head->setEnabled(false);
    m_head->setSpecialValueText(tr("Mean of heads"));
    m_head->setToolTip(tr("Query head; the lowest value averages all heads (\u2190 / \u2192 on the map)"));
    m_scale = new QComboBox(this);
    m_scale->addItem(QString());  // auto: named by what it chose (applyColorScale)
    m_scale->addItem(tr("Linear scale"));
    m_scale->addItem(tr("Log scale"));
    m_scale->setToolTip(tr("Auto: linear up to %1 tokens, log above (a row of a long prompt spreads "
                           "its probability over many keys, so a linear scale shows it all near zero). "
                           "The status bar always shows the exact value under the cursor.")
                            .arg(kAutoLogTokens));
    m_colormap = new QComboBox(this);
    for (Colormap map : kAllColormaps) m_colormap->addItem(colormapName(map));
    m_pool = new QComboBox(this);
    m_pool->addItem(tr("Block max"));
    m_pool->addItem(tr("Block mean"));
    m_pool->setToolTip(tr("Long prompts: each overview cell shows the exact maximum or mean of the "
                          "probabilities in its block of queries × keys; zoom in for single tokens"));
    m_role = new QComboBox(this);
    m_role->addItem(tr("Token as query"));
    m_role->addItem(tr("Token as key"));
    m_role->setToolTip(tr("Colour the tokens by the attention the selected token pays (query) "
                          "or receives (key)"));
    m_mask = new QCheckBox(tr("Blank masked cells"), this);
    m_mask->setChecked(true);
    m_mask->setToolTip(tr("Keys after the query cannot be attended to; draw them as background"));
    m_viewInfo = new QLabel(this);
    m_viewInfo->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Long descriptions must not widen the window (docked panels share it): elide instead.
    m_viewInfo->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_viewInfo->setMinimumWidth(60);

    auto* controls = new QHBoxLayout;
    for (QWidget* w : std::initializer_list<QWidget*>{m_layer, m_head, m_scale, m_colormap, m_pool, m_role, m_mask})
        controls->addWidget(w);
    controls->addSpacing(12);
    controls->addWidget(m_viewInfo, 1);

    m_heatmap = new AttentionHeatmap(this);
    m_heatmap->setMinimumHeight(240);
    m_strip = new TokenStrip(this);
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(m_strip);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMinimumHeight(40);
    m_stripHint = new QLabel(tr("Tokens \u2014 click one to colour the keys by the attention it pays"), this);
    m_stripHint->setEnabled(false);

    auto* stripBox = new QWidget(this);
    auto* stripLayout = new QVBoxLayout(stripBox);
    stripLayout->setContentsMargins(0, 0, 0, 0);
    stripLayout->addWidget(m_stripHint);
    stripLayout->addWidget(scroll, 1);

    QSplitter* split = makeSplitter(Qt::Vertical, this, {m_heatmap, stripBox}, {600, 90});
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 0);  // extra height goes to the map

    controlsAbove(this, controls, split);
    applyColorScale();

    connect(m_layer, &QSpinBox::valueChanged, this, &AttentionMapsPanel::emitViewRequest);
    connect(m_head, &QSpinBox::valueChanged, this, &AttentionMapsPanel::emitViewRequest);
    connect(m_scale, &QComboBox::currentIndexChanged, this, &AttentionMapsPanel::applyColorScale);
    connect(m_colormap, &QComboBox::currentIndexChanged, this,
            [this](int i) { m_heatmap->setColormap(kAllColormaps[size_t(i)]); });
    connect(m_mask, &QCheckBox::toggled, m_heatmap, &AttentionHeatmap::setCausalMask);
    connect(m_heatmap, &AttentionHeatmap::headStepRequested, this, &AttentionMapsPanel::stepHead);
    connect(m_heatmap, &AttentionHeatmap::layerStepRequested, this, &AttentionMapsPanel::stepLayer);
    connect(m_pool, &QComboBox::currentIndexChanged, this, &AttentionMapsPanel::emitViewRequest);
    connect(m_role, &QComboBox::currentIndexChanged, this, [this] {
        m_stripHint->setText(tokenRole() == TokenRole::Key
                                 ? tr("Tokens — click one to colour the queries by the attention it receives")
                                 : tr("Tokens — click one to colour the keys by the attention it pays"));
        m_strip->setHighlights({});
        outlineSelection();
        emit tokenRoleChanged(tokenRole());
    });
    connect(m_heatmap, &AttentionHeatmap::cellHovered, this,
            [this](const HeatmapCell& cell) { emit hoverTextChanged(describeCell(cell)); });
    connect(m_heatmap, &AttentionHeatmap::hoverLeft, this, [this] { emit hoverTextChanged({}); });
    connect(m_strip, &TokenStrip::tokenClicked, this, [this](int i) {
        outlineSelection();
        emit tokenSelected(i);
    });
}

int AttentionMapsPanel::layer() const { return m_layer->value(); }
int AttentionMapsPanel::head() const { return m_head->value(); }
int AttentionMapsPanel::selectedToken() const { return m_strip->selectedIndex(); }
void AttentionMapsPanel::setColorScale(ColorScale scale) {
    m_scale->setCurrentIndex(scale == ColorScale::Log ? 2 : 1);
}

void AttentionMapsPanel::setAutoColorScale() { m_scale->setCurrentIndex(0); }

bool AttentionMapsPanel::isAutoColorScale() const { return m_scale->currentIndex() == 0; }

void AttentionMapsPanel::applyColorScale() {
    const ColorScale autoScale = m_strip->count() > kAutoLogTokens ? ColorScale::Log : ColorScale::Linear;
    m_scale->setItemText(0, autoScale == ColorScale::Log ? tr("Auto scale (log)") : tr("Auto scale (linear)"));
    const int i = m_scale->currentIndex();
    m_heatmap->setColorScaleType(i == 0 ? autoScale : i == 2 ? ColorScale::Log : ColorScale::Linear);
}

void AttentionMapsPanel::setColormap(Colormap map) {
    m_colormap->setCurrentIndex(int(std::find(kAllColormaps.begin(), kAllColormaps.end(), map) -
                                    kAllColormaps.begin()));
}

void AttentionMapsPanel::selectToken(int index) {
    m_strip->setSelectedIndex(index);
    outlineSelection();
}

void AttentionMapsPanel::outlineSelection() {
    if (tokenRole() == TokenRole::Key) m_heatmap->setSelectedKey(m_strip->selectedIndex());
    else m_heatmap->setSelectedQuery(m_strip->selectedIndex());
}

TokenRole AttentionMapsPanel::tokenRole() const {
    return m_role->currentIndex() == 1 ? TokenRole::Key : TokenRole::Query;
}

void AttentionMapsPanel::setTokenRole(TokenRole role) { m_role->setCurrentIndex(role == TokenRole::Key ? 1 : 0); }
int AttentionMapsPanel::poolIndex() const { return m_pool->currentIndex(); }
void AttentionMapsPanel::setPoolIndex(int index) { m_pool->setCurrentIndex(index); }

void AttentionMapsPanel::setLayer(int layer) { m_layer->setValue(layer); }
void AttentionMapsPanel::setHead(int head) { m_head->setValue(head); }
void AttentionMapsPanel::setLayerHead(int layer, int head) {
    if (layer == m_layer->value() && head == m_head->value()) return;
    {
        const QSignalBlocker b1(m_layer), b2(m_head);
        m_layer->setValue(layer);
        m_head->setValue(head);
    }
    emitViewRequest();
}

void AttentionMapsPanel::stepLayer(int delta) { m_layer->setValue(m_layer->value() + delta); }
void AttentionMapsPanel::stepHead(int delta) { m_head->setValue(m_head->value() + delta); }

void AttentionMapsPanel::emitViewRequest() { emit viewRequested(layer(), head()); }

void AttentionMapsPanel::setModelShape(int nLayers, int nHeads) {
    // Keep the current choice when it still exists (e.g. --layer given before loading).
    const QSignalBlocker b1(m_layer), b2(m_head);
    m_layer->setRange(0, std::max(0, nLayers - 1));
    m_head->setRange(-1, std::max(0, nHeads - 1));
    m_layer->setEnabled(nLayers > 0);
    m_head->setEnabled(nHeads > 0);
}

void AttentionMapsPanel::setTokens(const attnscope::TokenStrip& tokens) {
    m_strip->setTokens(tokens);
    applyColorScale();  // auto follows the prompt's length
    m_heatmap->setTokenLabels(m_strip->displayTexts());
    outlineSelection();
}

void AttentionMapsPanel::setAttention(const Matrix2D& matrix, const HeatmapExtent& extent,
                                      int layer, int head) {
    m_heatmap->setMatrix(matrix, extent);
    outlineSelection();
    emit hoverTextChanged({});  // what was under the cursor is gone
    const HeatmapExtent& e = m_heatmap->extent();
    const bool exact = matrix.rows == e.q1 - e.q0 && matrix.cols == e.k1 - e.k0;
    const QString who = head < 0 ? tr("layer %1, mean of heads").arg(layer)
                                 : tr("layer %1, head %2").arg(layer).arg(head);
    m_viewInfo->setText(exact ? tr("%1 \u00b7 %2 \u00d7 %3 tokens, exact")
                                    .arg(who).arg(e.q1 - e.q0).arg(e.k1 - e.k0)
                              : tr("%1 \u00b7 %2 \u00d7 %3 tokens, block %6 over %4 \u00d7 %5 cells (zoom in for finer tiles)")
                                    .arg(who).arg(e.q1 - e.q0).arg(e.k1 - e.k0)
                                    .arg(matrix.rows).arg(matrix.cols)
                                    .arg(poolIndex() == 1 ? tr("mean") : tr("maximum")));
    m_viewInfo->setToolTip(m_viewInfo->text());
}

void AttentionMapsPanel::setTokenHighlight(int token, TokenRole role, const std::vector<float>& values) {
    if (token != m_strip->selectedIndex() || role != tokenRole()) return;  // a stale answer
    m_strip->setHighlights(values);
}

void AttentionMapsPanel::clear() {
    m_heatmap->clearMatrix();
    m_strip->clear();
    m_heatmap->setTokenLabels({});
    m_viewInfo->clear();
    emit hoverTextChanged({});
}

QString AttentionMapsPanel::tokenText(int64_t position) const {
    const QString t = m_strip->displayText(int(position));
    return t.isEmpty() ? QString() : QStringLiteral(" \u201c%1\u201d").arg(t);
}

QString AttentionMapsPanel::describeCell(const HeatmapCell& cell) const {
    const QString value = cell.masked ? tr("masked") : QString::number(double(cell.value), 'g', 4);
    if (cell.query1 - cell.query0 == 1 && cell.key1 - cell.key0 == 1) {
        return tr("query %1%2 \u2192 key %3%4 : %5")
            .arg(cell.query0).arg(tokenText(cell.query0))
            .arg(cell.key0).arg(tokenText(cell.key0))
            .arg(value);
    }
    return tr("queries %1\u2013%2 \u2192 keys %3\u2013%4 : %6 %5")
        .arg(cell.query0).arg(cell.query1 - 1)
        .arg(cell.key0).arg(cell.key1 - 1)
        .arg(value, poolIndex() == 1 ? tr("mean") : tr("max"));
}

}  // namespace attnscope::widgets
