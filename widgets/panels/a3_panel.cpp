#include "panels/a3_panel.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QSignalBlocker>
#include <QSlider>
#include <QDoubleSpinBox>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>

#include "panels/panel_layout.h"
#include "plot/colormaps.h"
#include "plot/layer_curves_plot.h"
#include "plot/matrix_plot.h"
#include "plot/plot_theme.h"

namespace attnscope::widgets {
namespace {

constexpr A3Rope kRopes[] = {A3Rope::FrequencyPairs, A3Rope::PreRope, A3Rope::NoRotaryCut};  // combo order

QString percent(double fraction) { return QStringLiteral("%1%").arg(fraction * 100.0, 0, 'f', fraction < 0.1 ? 1 : 0); }

QString bytes(int64_t b) {
    return b >= 1024 * 1024 ? QStringLiteral("%1 MiB").arg(double(b) / 1048576.0, 0, 'f', 2)
         : b >= 1024        ? QStringLiteral("%1 KiB").arg(double(b) / 1024.0, 0, 'f', 1)
                            : QStringLiteral("%1 B").arg(b);
}

}  // namespace

A3Panel::A3Panel(QWidget* parent) : QWidget(parent) {
    m_rank = new QSlider(Qt::Horizontal, this);
    m_rank->setToolTip(a3Help("rank"));
    m_rank->setMinimumWidth(120);
    m_rankLabel = new QLabel(this);
    m_rankLabel->setMinimumWidth(150);
    m_mode = new QComboBox(this);
    m_mode->addItems({tr("Map: A^3"), tr("Map: baseline"), tr("Map: gain (baseline \u2212 A^3)")});
    m_mode->setToolTip(a3Help("map"));
    m_metric = new QComboBox(this);
    for (A3Metric m : kAllA3Metrics) m_metric->addItem(a3MetricName(m));
    m_metric->setToolTip(a3Help("metric"));
    m_component = new QComboBox(this);
    for (A3Component c : kAllA3Components) m_component->addItem(a3ComponentTitle(c));
    m_component->setToolTip(a3Help("component"));
    m_rope = new QComboBox(this);
    for (A3Rope r : kRopes) m_rope->addItem(tr("QK RoPE: %1").arg(QString::fromLatin1(a3RopeName(r))));
    m_rope->setToolTip(a3Help("rope"));
    m_refit = new QCheckBox(tr("MLP refit"), this);
    m_refit->setChecked(true);
    m_refit->setToolTip(tr("Least-squares refit of W_down on the kept channels (off: keep the original columns)."));

    auto* controls = new QVBoxLayout;
    controls->setSpacing(2);
    auto* row1 = new QHBoxLayout;
    row1->addWidget(new QLabel(tr("Rank"), this));
    row1->addWidget(m_rank, 1);
    row1->addWidget(m_rankLabel);
    auto* row2 = new QHBoxLayout;
    for (QWidget* w : std::initializer_list<QWidget*>{m_mode, m_metric, m_component}) row2->addWidget(w);
    row2->addStretch(1);
    auto* row3 = new QHBoxLayout;
    row3->addWidget(m_rope);
    row3->addWidget(m_refit);
    row3->addStretch(1);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // wraps, never widens the dock
    m_summary->setTextFormat(Qt::RichText);
    for (QLayout* l : std::initializer_list<QLayout*>{row1, row2, row3}) controls->addLayout(l);
    controls->addWidget(m_summary);

    m_map = new MatrixPlot(this);
    m_map->setAxisTitles(tr("component"), tr("layer"));
    m_map->setColumnLabels({tr("QK"), tr("OV"), tr("MLP")});
    m_map->setKeyboardNavigation(true);
    m_map->setMinimumSize(180, 160);
    m_map->setToolTip(a3Help("component"));
    m_map->setCellDescriber([this](int row, int col) {
        if (!hasResult() || row < 0 || row >= int(m_result.layers.size())) return QString();
        const A3Component c = kAllA3Components[size_t(col)];
        const size_t f = fractionIndex();
        const A3Point& p = m_result.layers[size_t(row)].of(c)[f];
        const A3Metric m = metric();
        if (!a3MetricApplies(m, c)) return tr("%1 has no %2").arg(a3ComponentTitle(c), a3MetricName(m));
        return tr("layer %1 \u00b7 %2 at r = %3 (%4)<br>%5: A^3 %6, baseline %7")
            .arg(row)
            .arg(a3ComponentTitle(c))
            .arg(p.r)
            .arg(percent(p.fraction))
            .arg(a3MetricName(m))
            .arg(a3Value(p, m, false), 0, 'g', 4)
            .arg(a3Value(p, m, true), 0, 'g', 4);
    });
    m_curves = new LayerCurvesPlot(QStringLiteral("a3-error-vs-rank"), this);
    m_curves->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_curves->xAxis->setLabel(tr("kept dimension (% of full)"));
    m_curves->setToolTip(a3Help("metric"));
    m_savings = new LayerCurvesPlot(QStringLiteral("a3-savings"), this);
    m_savings->setToolTip(a3Help("savings"));
    m_savings->setLegendColumns(5);
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(m_curves, tr("Error vs rank"));
    m_tabs->addTab(m_savings, tr("Savings"));
    m_tabs->addTab(buildEndToEnd(), tr("End to end"));
    QSplitter* split = makeSplitter(Qt::Vertical, this, {m_map, m_tabs}, {420, 420});

    auto* box = new QWidget(this);
    controlsAbove(box, controls, split);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(box);

    connect(m_rank, &QSlider::valueChanged, this, &A3Panel::redraw);
    for (QComboBox* c : {m_mode, m_metric}) connect(c, &QComboBox::currentIndexChanged, this, &A3Panel::redraw);
    connect(m_component, &QComboBox::currentIndexChanged, this, [this](int c) {
        if (m_map->currentColumn() != c) m_map->setCurrentCell(m_layer, c);
        redraw();
    });
    connect(m_map, &MatrixPlot::currentCellChanged, this, [this](int row, int col) {
        if (row < 0 || col < 0) return;
        m_layer = row;
        const QSignalBlocker b(m_component);
        m_component->setCurrentIndex(col);
        redraw();
    });
    connect(m_rope, &QComboBox::currentIndexChanged, this, &A3Panel::emitOptions);
    connect(m_refit, &QCheckBox::toggled, this, &A3Panel::emitOptions);
    clear();
}

QWidget* A3Panel::buildEndToEnd() {
    auto* box = new QWidget(this);
    m_profile = new QComboBox(box);
    m_profile->addItems({tr("Every layer at the slider's rank"), tr("Per layer: smallest rank with error \u2264 \u03b5"),
                         tr("Per layer: the fractions I type")});
    m_profile->setToolTip(tr("Which ranks to write into the weights: the same fraction everywhere, or per layer and "
                             "component the smallest swept rank whose held-out error is at most \u03b5."));
    m_epsilon = new QDoubleSpinBox(box);
    m_epsilon->setRange(0.0, 1.0);
    m_epsilon->setSingleStep(0.05);
    m_epsilon->setValue(0.3);
    m_epsilon->setPrefix(QStringLiteral("\u03b5 = "));
    m_layerRanks = new QLineEdit(box);
    m_layerRanks->setPlaceholderText(tr("one swept fraction per layer: 0.5,0.5,0.25,\u2026"));
    m_layerRanks->setToolTip(tr("One rank fraction per layer, each one of the sweep's (the slider's steps), "
                                "for all checked components."));
    m_layerRanks->setEnabled(false);
    m_applyQk = new QCheckBox(tr("QK"), box);
    m_applyOv = new QCheckBox(tr("OV"), box);
    m_applyMlp = new QCheckBox(tr("MLP"), box);
    for (QCheckBox* c : {m_applyQk, m_applyOv, m_applyMlp}) c->setChecked(true);
    m_evaluate = new QPushButton(tr("Evaluate"), box);
    m_evaluate->setToolTip(tr("Write the cuts into a copy of the model's weights (no extra matrices) and compare it "
                              "with the full model on the held-out tokens: perplexity, KL, top-1, and a greedy "
                              "continuation of each."));
    m_apply = new QPushButton(tr("Apply to model"), box);
    m_apply->setToolTip(tr("Make these reduced weights the open model's: every panel then shows the reduced "
                           "model (the prompt runs again). Restore gives the original weights back."));
    m_restore = new QPushButton(tr("Restore"), box);
    m_restore->setEnabled(false);
    m_applied = new QLabel(box);
    m_applied->setWordWrap(true);
    m_e2e = new QLabel(box);
    m_e2e->setWordWrap(true);
    m_e2e->setTextFormat(Qt::RichText);
    m_e2e->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_e2e->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_e2e->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    auto* row = new QHBoxLayout;
    for (QWidget* w : std::initializer_list<QWidget*>{m_profile, m_epsilon, m_applyQk, m_applyOv, m_applyMlp}) row->addWidget(w);
    row->addStretch(1);
    row->addWidget(m_evaluate);
    auto* applyRow = new QHBoxLayout;
    applyRow->addWidget(m_applied, 1);
    applyRow->addWidget(m_apply);
    applyRow->addWidget(m_restore);
    auto* controls = new QVBoxLayout;
    controls->addLayout(row);
    controls->addWidget(m_layerRanks);
    controls->addLayout(applyRow);
    connect(m_apply, &QPushButton::clicked, this, [this] {
        if (!hasResult()) return;
        m_applied->setText(tr("Applying\u2026"));
        emit applyRequested(endToEndProfile());
    });
    connect(m_restore, &QPushButton::clicked, this, [this] {
        m_applied->setText(tr("Restoring\u2026"));
        emit restoreRequested();
    });
    connect(m_profile, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_epsilon->setEnabled(i == 1);
        m_layerRanks->setEnabled(i == 2);
    });
    m_epsilon->setEnabled(false);
    connect(m_evaluate, &QPushButton::clicked, this, [this] {
        if (!hasResult()) return;
        setEndToEndStatus(tr("Cutting the weights and running both models\u2026"));
        emit endToEndRequested(endToEndProfile());
    });
    setApplied(QString());
    return controlsAbove(box, controls, m_e2e);
}

QStringList A3Panel::endToEndProfile() const {
    QStringList o;
    if (m_profile->currentIndex() == 1) o << QStringLiteral("--a3-apply-epsilon") << QString::number(m_epsilon->value(), 'g', 6);
    else if (m_profile->currentIndex() == 2) o << QStringLiteral("--a3-apply-layers") << m_layerRanks->text().simplified().remove(QLatin1Char(' '));
    else if (hasResult()) o << QStringLiteral("--a3-apply") << QString::number(m_result.fractions[fractionIndex()], 'g', 17);
    QStringList comps;
    if (m_applyQk->isChecked()) comps << QStringLiteral("qk");
    if (m_applyOv->isChecked()) comps << QStringLiteral("ov");
    if (m_applyMlp->isChecked()) comps << QStringLiteral("mlp");
    o << QStringLiteral("--a3-apply-components") << comps.join(QLatin1Char(','));
    return o;
}

void A3Panel::setLayerRanks(const QString& fractions) {
    m_profile->setCurrentIndex(2);
    m_layerRanks->setText(fractions);
}

void A3Panel::setEndToEndStatus(const QString& text) { m_e2e->setText(text.toHtmlEscaped()); }

void A3Panel::setApplied(const QString& name) {
    m_restore->setEnabled(!name.isEmpty());
    m_applied->setText(name.isEmpty() ? tr("The model runs with its original weights.")
                                      : tr("<b>Applied:</b> %1. Every panel shows the reduced model.").arg(name.toHtmlEscaped()));
}

void A3Panel::showEndToEndTab() { m_tabs->setCurrentIndex(2); }

void A3Panel::setEndToEnd(const A3EndToEnd& e, const QString& fullText, const QString& reducedText) {
    int64_t keys = 0, values = 0;
    for (const auto& d : e.cacheDims) keys += d[0], values += d[1];
    const int L = std::max<int>(1, int(e.cacheDims.size()));
    QString text = tr("<b>%1</b><table cellspacing='6'>"
                      "<tr><td>perplexity (held-out)</td><td>%2 \u2192 <b>%3</b></td></tr>"
                      "<tr><td>KL(full \u2016 reduced)</td><td>%4 nats per token</td></tr>"
                      "<tr><td>top-1 agreement</td><td>%5</td></tr>"
                      "<tr><td>KV cache (16-bit)</td><td>%6 \u2192 %7 per token</td></tr>"
                      "<tr><td>dimensions read per KV head</td><td>keys %8, values %9 (mean over layers)</td></tr>"
                      "<tr><td>weights removed</td><td>%10</td></tr></table>")
                       .arg(QString::fromStdString(e.profile.name).toHtmlEscaped())
                       .arg(e.pplFull, 0, 'f', 3)
                       .arg(e.ppl, 0, 'f', 3)
                       .arg(e.kl, 0, 'f', 4)
                       .arg(e.top1, 0, 'f', 3)
                       .arg(bytes(e.kvBytesFull))
                       .arg(bytes(e.kvBytesReduced))
                       .arg(double(keys) / L, 0, 'f', 1)
                       .arg(double(values) / L, 0, 'f', 1)
                       .arg(QLocale().toString(qlonglong(e.paramsSaved)));
    text += tr("<p><b>Full model:</b> %1<br><b>Reduced:</b> %2</p>").arg(fullText.toHtmlEscaped(), reducedText.toHtmlEscaped());
    if (!e.note.empty()) text += QStringLiteral("<p>\u26a0 %1</p>").arg(QString::fromStdString(e.note).toHtmlEscaped());
    m_e2e->setText(text);
}

void A3Panel::clear() {
    m_result = {};
    m_map->clearMatrix();
    m_curves->clearGraphs();
    m_curves->clearDecorations();
    m_curves->replot();
    m_savings->clearPlottables();
    m_savings->replot();
    m_rank->setEnabled(false);
    m_rankLabel->clear();
    m_e2e->setText(tr("Evaluate a profile: its cuts written into a copy of the weights, against the full model."));
    m_summary->setText(tr("Run a prompt: A^3 calibrates on its first half and scores every layer's QK, OV and MLP "
                          "cut on the second, against plain SVD / magnitude pruning."));
}

A3Component A3Panel::component() const { return kAllA3Components[size_t(std::max(0, m_component->currentIndex()))]; }
size_t A3Panel::fractionIndex() const { return size_t(std::max(0, m_rank->value())); }
A3Metric A3Panel::metric() const { return kAllA3Metrics[size_t(std::max(0, m_metric->currentIndex()))]; }
A3MapMode A3Panel::mapMode() const { return A3MapMode(std::max(0, m_mode->currentIndex())); }

void A3Panel::setResult(const A3Result& result) {
    const size_t oldF = hasResult() ? fractionIndex() : 0;
    const double oldFraction = hasResult() ? m_result.fractions[oldF] : 0.5;
    m_result = result;
    if (!hasResult()) return clear();
    m_quiet = true;
    {
        const QSignalBlocker b1(m_rope), b2(m_refit), b3(m_rank);
        for (size_t i = 0; i < std::size(kRopes); ++i)
            if (kRopes[i] == result.params.rope) m_rope->setCurrentIndex(int(i));
        m_rope->setEnabled(result.rope);
        m_refit->setChecked(result.params.refit);
        m_rank->setRange(0, int(result.fractions.size()) - 1);
        size_t best = 0;  // keep the rank the user looked at
        for (size_t i = 0; i < result.fractions.size(); ++i)
            if (std::abs(result.fractions[i] - oldFraction) < std::abs(result.fractions[best] - oldFraction)) best = i;
        m_rank->setValue(int(best));
        m_rank->setEnabled(true);
    }
    QStringList rows;
    for (size_t l = 0; l < result.layers.size(); ++l) rows << QString::number(l);
    m_map->setRowLabels(rows);
    m_layer = std::clamp(m_layer, 0, int(result.layers.size()) - 1);
    m_map->setCurrentCell(m_layer, m_component->currentIndex());
    m_quiet = false;
    redraw();
}

void A3Panel::setView(int layer, A3Component component, size_t fractionIndex, A3Metric metric, A3MapMode mode) {
    const QSignalBlocker b1(m_component), b2(m_metric), b3(m_mode), b4(m_rank);
    m_component->setCurrentIndex(int(component));
    m_metric->setCurrentIndex(int(std::find(kAllA3Metrics.begin(), kAllA3Metrics.end(), metric) - kAllA3Metrics.begin()));
    m_mode->setCurrentIndex(int(mode));
    m_rank->setValue(int(std::min(fractionIndex, m_result.fractions.empty() ? 0 : m_result.fractions.size() - 1)));
    m_layer = hasResult() ? std::clamp(layer, 0, int(m_result.layers.size()) - 1) : 0;
    if (hasResult()) m_map->setCurrentCell(m_layer, int(component));
    redraw();
}

void A3Panel::emitOptions() {
    if (m_quiet) return;
    emit optionsChanged({QStringLiteral("--a3-rope"), QString::fromLatin1(a3RopeName(kRopes[size_t(m_rope->currentIndex())])),
                         QStringLiteral("--a3-refit"), m_refit->isChecked() ? QStringLiteral("1") : QStringLiteral("0")});
}

void A3Panel::redraw() {
    if (m_quiet || !hasResult()) return;
    const size_t f = fractionIndex();
    const A3Savings s = a3Savings(m_result, f);
    m_rankLabel->setText(tr("%1: r = %2/%3 (QK), %4/%5 (OV), %6/%7 (MLP)")
                             .arg(percent(m_result.fractions[f]))
                             .arg(s.r[0])
                             .arg(m_result.headDim)
                             .arg(s.r[1])
                             .arg(m_result.headDim)
                             .arg(s.r[2])
                             .arg(m_result.dFF));
    showMap();
    showCurves();
    showSavings();
    showSummary();
}

void A3Panel::showMap() {
    const Matrix2D m = a3LayerMap(m_result, fractionIndex(), metric(), mapMode());
    if (mapMode() == A3MapMode::Gain) {
        float lo = 0, hi = 0;
        for (float v : m.data)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        m_map->setGradient(makeDivergingGradient());
        m_map->setValueRange(centredRange(0.0, lo, hi, 1e-3));
        m_map->setValueTitle(tr("gain: baseline \u2212 A^3 (red: A^3 better)"));
    } else {
        m_map->setGradient(makeGradient(Colormap::Magma));
        m_map->setValueRange(std::nullopt);
        m_map->setValueTitle(a3MetricTitle(metric()));
    }
    m_map->setMatrix(m);
}

void A3Panel::showCurves() {
    const A3Component c = component();
    const A3Metric m = metric();
    m_curves->clearGraphs();
    m_curves->clearDecorations();
    m_curves->yAxis->setLabel(a3MetricTitle(m));
    if (!a3MetricApplies(m, c)) {
        m_curves->replot();
        return;
    }
    const std::vector<A3Point>& pts = m_result.layers[size_t(m_layer)].of(c);
    QVector<double> x, a3, base;
    double top = 0;
    for (const A3Point& p : pts) {
        x << p.fraction * 100.0;
        a3 << a3Value(p, m, false);
        base << a3Value(p, m, true);
        top = std::max({top, a3.back(), base.back()});
    }
    const QString baseName = c == A3Component::MLP ? tr("magnitude pruning") : tr("plain SVD of the weights");
    m_curves->addCurve(tr("A^3, layer %1 %2").arg(m_layer).arg(a3ComponentTitle(c)), seriesColor(0))->setData(x, a3, true);
    m_curves->addCurve(tr("baseline: %1").arg(baseName), seriesColor(1), false, Qt::DashLine)->setData(x, base, true);
    const double at = m_result.fractions[fractionIndex()] * 100.0;
    m_curves->addLayerLine(at, QPen(QColor(120, 120, 120), 1, Qt::DotLine), percent(at / 100.0));
    m_curves->xAxis->setRange(0, 102);
    m_curves->yAxis->setRange(0, std::max(1e-6, top * 1.08));
    m_curves->replot();
}

void A3Panel::showSavings() {
    const size_t f = fractionIndex();
    const A3Savings s = a3Savings(m_result, f);
    m_savings->clearPlottables();
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    ticker->addTick(1, tr("KV full"));
    ticker->addTick(2, tr("KV at %1").arg(percent(m_result.fractions[f])));
    ticker->addTick(3.5, tr("weights removed"));
    m_savings->xAxis->setTicker(ticker);
    m_savings->xAxis->setLabel(QString());
    m_savings->xAxis->setRange(0.4, 4.1);
    m_savings->yAxis->setLabel(tr("KV KiB / token (16-bit)"));
    m_savings->yAxis2->setLabel(tr("weights removed (M)"));
    m_savings->yAxis2->setTickLabels(true);
    QCPBars* k = m_savings->addBars(tr("K"), seriesColor(0), false);
    QCPBars* v = m_savings->addBars(tr("V"), seriesColor(1), false);
    k->setData({1, 2}, {s.kvFullK / 1024.0, s.kvK / 1024.0}, true);
    v->setData({1, 2}, {s.kvFullV / 1024.0, s.kvV / 1024.0}, true);
    v->moveAbove(k);
    QCPBars* below = nullptr;
    for (int c = 0; c < kA3Components; ++c) {
        QCPBars* b = m_savings->addBars(QString::fromLatin1(a3ComponentName(kAllA3Components[size_t(c)])).toUpper(),
                                        seriesColor(2 + c), true);
        b->setData({3.5}, {double(s.paramsSaved[size_t(c)]) / 1e6}, true);
        if (below) b->moveAbove(below);
        below = b;
    }
    m_savings->yAxis->setRange(0, std::max(1e-3, double(s.kvFullK + s.kvFullV) / 1024.0 * 1.1));
    double removed = 0;
    for (int64_t p : s.paramsSaved) removed += double(p) / 1e6;
    m_savings->yAxis2->setRange(0, std::max(1e-3, removed * 1.1));
    m_savings->replot();
}

void A3Panel::showSummary() {
    const size_t f = fractionIndex();
    const A3Savings s = a3Savings(m_result, f);
    double a3 = 0, base = 0;
    int n = 0;
    for (const A3Layer& l : m_result.layers)
        for (A3Component c : kAllA3Components)
            if (a3MetricApplies(A3Metric::HeldOut, c)) a3 += l.of(c)[f].heldOut, base += l.of(c)[f].baselineHeldOut, ++n;
    const int64_t T = m_result.calibTokens + m_result.heldOutRows;
    QString text = tr("<b>%1 calibration tokens, %2 held-out rows.</b> QK: %3. At %4 of every dimension: mean held-out "
                      "error %5 (baseline %6); KV cache %7 \u2192 %8 per token; %9 MFLOP less per token at %10 tokens "
                      "of context.")
                       .arg(m_result.calibTokens)
                       .arg(m_result.heldOutRows)
                       .arg(QString::fromStdString(m_result.qkMode).toHtmlEscaped())
                       .arg(percent(m_result.fractions[f]))
                       .arg(a3 / std::max(1, n), 0, 'f', 3)
                       .arg(base / std::max(1, n), 0, 'f', 3)
                       .arg(bytes(s.kvFullK + s.kvFullV))
                       .arg(bytes(s.kvK + s.kvV))
                       .arg(double(a3FlopsSavedPerToken(m_result, f, T)) / 1e6, 0, 'f', 1)
                       .arg(T);
    const QString warning = a3CalibrationWarning(m_result);
    if (!warning.isEmpty()) text += QStringLiteral("<br><span style='color:#b35806'>\u26a0 %1</span>").arg(warning.toHtmlEscaped());
    m_summary->setText(text);
}

}  // namespace attnscope::widgets
