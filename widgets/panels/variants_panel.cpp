#include "panels/variants_panel.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "plot/plot_menu.h"
#include "plot/plot_theme.h"
#include "plot/variant_pair_plot.h"

namespace attnscope::widgets {
namespace {

// A table cell that sorts by its number, not its text.
class NumberItem : public QTableWidgetItem {
public:
    NumberItem(double v, int precision) : QTableWidgetItem(QString::number(v, 'g', precision)), m_v(v) {
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override {
        if (const auto* o = dynamic_cast<const NumberItem*>(&other)) return m_v < o->m_v;
        return QTableWidgetItem::operator<(other);
    }

private:
    double m_v;
};

struct Metric {
    const char* key;
    const char* title;
    double (*of)(const VariantRun&);
};

// The comparison's metrics (bars and table): means over the layer's heads, and end to end.
const Metric kCompare[] = {
    {"output_rel_err", QT_TRANSLATE_NOOP("VariantsPanel", "output rel. error ‖O′−O‖/‖O‖"),
     [](const VariantRun& r) { return r.mean.outputRelErr; }},
    {"row_kl_mean", QT_TRANSLATE_NOOP("VariantsPanel", "row KL(variant ‖ softmax) (nats)"),
     [](const VariantRun& r) { return r.mean.rowKlMean; }},
    {"entropy_gap", QT_TRANSLATE_NOOP("VariantsPanel", "entropy gap, variant − softmax (nats)"),
     [](const VariantRun& r) { return r.mean.entropyGap; }},
    {"sink_mass", QT_TRANSLATE_NOOP("VariantsPanel", "first-token (sink) mass, mean over queries"),
     [](const VariantRun& r) { return r.mean.sinkMass; }},
    {"e2e_kl", QT_TRANSLATE_NOOP("VariantsPanel", "end-to-end next-token KL (nats)"),
     [](const VariantRun& r) { return r.hasEndToEnd ? r.endToEnd.klMean : std::nan(""); }},
};

QCustomPlot* newPlot(QWidget* parent, const QString& exportName, const QString& x, const QString& y) {
    auto* p = new QCustomPlot(parent);
    p->xAxis->setLabel(x);
    p->yAxis->setLabel(y);
    p->legend->setVisible(true);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    installPlotTheme(p);
    PlotMenu::install(p, exportName);
    return p;
}

}  // namespace

VariantsPanel::VariantsPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* row = new QHBoxLayout;
    m_layer = new QSpinBox(this);
    m_layer->setRange(0, 0);
    m_head = new QSpinBox(this);
    m_head->setRange(0, 0);
    m_picker = new QComboBox(this);
    m_picker->setMinimumContentsLength(12);
    m_picker->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    for (auto [label, w] :
         {std::pair<QString, QWidget*>{tr("Layer"), m_layer}, {tr("Head"), m_head}, {tr("Variant"), m_picker}}) {
        row->addWidget(new QLabel(label, this));
        row->addWidget(w, w == m_picker ? 1 : 0);
    }
    layout->addLayout(row);
    auto* toggles = new QHBoxLayout;
    m_log = new QCheckBox(tr("Log colour"), this);
    m_log->setChecked(true);  // weights span decades: a linear scale shows the sink column and little else
    m_substitute = new QCheckBox(tr("End to end"), this);
    m_substitute->setToolTip(tr("Re-run the model with each variant in place of this layer's attention: next-token KL "
                                "at every position, perplexity of the prompt's second half, top-1 agreement"));
    m_allLayers = new QCheckBox(tr("All layers"), this);
    m_allLayers->setToolTip(tr("End to end with the variant in every layer"));
    for (QCheckBox* box : {m_log, m_substitute, m_allLayers}) toggles->addWidget(box);
    toggles->addStretch(1);
    layout->addLayout(toggles);
    m_paramBox = new QWidget(this);
    m_paramRow = new QGridLayout(m_paramBox);
    m_paramRow->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_paramBox);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // wraps to the dock's width
    m_summary->setTextFormat(Qt::RichText);
    layout->addWidget(m_summary);

    m_tabs = new QTabWidget(this);
    m_pair = new VariantPairPlot(m_tabs);
    m_pair->setLogScale(true);
    m_tabs->addTab(m_pair, tr("Maps"));
    connect(m_pair, &VariantPairPlot::tileWanted, this, [this](const VariantTile& tile) {
        m_tile = tile;
        requestPair();
    });
    m_heads = new QTableWidget(m_tabs);
    m_heads->setSortingEnabled(true);
    m_tabs->addTab(m_heads, tr("Heads"));
    auto* compare = new QWidget(m_tabs);
    auto* compareLayout = new QVBoxLayout(compare);
    compareLayout->setContentsMargins(0, 0, 0, 0);
    m_compare = new QTableWidget(compare);
    m_compare->setSortingEnabled(true);
    compareLayout->addWidget(m_compare, 3);
    auto* metricRow = new QHBoxLayout;
    m_compareMetric = new QComboBox(compare);
    for (const Metric& m : kCompare) m_compareMetric->addItem(tr(m.title), QString::fromLatin1(m.key));
    metricRow->addWidget(new QLabel(tr("Bars:"), compare));
    metricRow->addWidget(m_compareMetric);
    metricRow->addStretch(1);
    compareLayout->addLayout(metricRow);
    m_compareBars = newPlot(compare, QStringLiteral("variant-compare-table"), QString(), QString());
    m_compareBars->legend->setVisible(false);
    compareLayout->addWidget(m_compareBars, 2);
    m_tabs->addTab(compare, tr("Compare all"));
    m_kl = newPlot(m_tabs, QStringLiteral("variant-kl-curve"), tr("position i (predicting token i+1)"),
                   tr("next-token KL (nats)"));
    m_tabs->addTab(m_kl, tr("End to end"));
    layout->addWidget(m_tabs, 1);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    layout->addWidget(m_status);

    m_optionsTimer = new QTimer(this);
    m_optionsTimer->setSingleShot(true);
    m_optionsTimer->setInterval(400);
    connect(m_optionsTimer, &QTimer::timeout, this, &VariantsPanel::emitOptions);
    connect(m_layer, &QSpinBox::valueChanged, this, [this] {
        if (!m_quiet) {
            emitOptions();
            requestPair();
        }
    });
    connect(m_head, &QSpinBox::valueChanged, this, [this] {
        if (!m_quiet) requestPair();
    });
    connect(m_picker, &QComboBox::currentIndexChanged, this, [this] {
        if (m_quiet) return;
        buildParams();
        showSummary();
        showHeads();
        showKl();
        requestPair();  // the section keeps the pair the panel shows: no recomputation of every variant
    });
    connect(m_log, &QCheckBox::toggled, m_pair, &VariantPairPlot::setLogScale);
    for (QCheckBox* box : {m_substitute, m_allLayers})
        connect(box, &QCheckBox::toggled, this, [this] {
            if (!m_quiet) emitOptions();
        });
    connect(m_compareMetric, &QComboBox::currentIndexChanged, this,
            [this] { setCompareMetric(m_compareMetric->currentData().toString()); });
    setStatus(tr("Run a prompt: the variants replay a layer's q, k and v; pick one to see its map beside softmax."));
}

void VariantsPanel::setCatalog(const std::vector<VariantInfo>& infos) {
    m_catalog = infos;
    fillPicker();
}

const VariantInfo* VariantsPanel::infoOf(const QString& name) const {
    for (const VariantInfo& i : m_catalog)
        if (QString::fromStdString(i.name) == name) return &i;
    return nullptr;
}

const VariantRun* VariantsPanel::runOf(const QString& name) const {
    for (const VariantRun& r : m_result.variants)
        if (QString::fromStdString(r.name) == name) return &r;
    return nullptr;
}

void VariantsPanel::fillPicker() {
    const QString keep = selectedVariant();
    m_quiet = true;
    m_picker->clear();
    auto* model = qobject_cast<QStandardItemModel*>(m_picker->model());
    std::vector<std::pair<std::string, std::string>> items;  // family, name
    if (!m_catalog.empty())
        for (const VariantInfo& i : m_catalog) items.push_back({variantFamilyName(i.family), i.name});
    else
        for (const VariantRun& r : m_result.variants) items.push_back({"", r.name});
    std::string family = "\x01";
    for (const auto& [fam, name] : items) {
        if (fam != family && !fam.empty()) {  // a family heading, not selectable
            m_picker->addItem(QString::fromStdString(fam).toUpper());
            if (model) model->item(m_picker->count() - 1)->setEnabled(false);
        }
        family = fam;
        m_picker->addItem(QStringLiteral("  ") + QString::fromStdString(name), QString::fromStdString(name));
        if (const VariantInfo* info = infoOf(QString::fromStdString(name)))
            m_picker->setItemData(
                m_picker->count() - 1,
                QStringLiteral("<b>%1</b><br>%2<br><i>%3</i>")
                    .arg(QString::fromStdString(info->title), QString::fromStdString(info->explanation).toHtmlEscaped(),
                         QString::fromStdString(info->source).toHtmlEscaped()),
                Qt::ToolTipRole);
    }
    m_quiet = false;
    selectVariant(keep.isEmpty() ? QStringLiteral("topk") : keep);
}

void VariantsPanel::selectVariant(const QString& name) {
    int at = m_picker->findData(name);
    if (at < 0)
        for (int i = 0; i < m_picker->count() && at < 0; ++i)
            if (m_picker->itemData(i).isValid() && m_picker->itemData(i).toString() != QLatin1String("softmax")) at = i;
    if (at < 0) return;
    const bool was = m_quiet;
    m_quiet = true;
    m_picker->setCurrentIndex(at);
    m_quiet = was;
    buildParams();
    showSummary();
    showHeads();
    showKl();
}

QString VariantsPanel::selectedVariant() const { return m_picker->currentData().toString(); }
void VariantsPanel::setHead(int head) { m_head->setValue(head); }

void VariantsPanel::setLayerHead(int layer, int head) {
    if (layer < m_layer->minimum() || layer > m_layer->maximum()) return;
    const bool otherLayer = layer != m_layer->value();
    const bool otherHead = head >= 0 && head <= m_head->maximum() && head != m_head->value();
    if (!otherLayer && !otherHead) return;
    m_quiet = true;
    m_layer->setValue(layer);
    if (otherHead) m_head->setValue(head);
    m_quiet = false;
    if (otherLayer) emitOptions();
    requestPair();
}
int VariantsPanel::head() const { return m_head->value(); }
void VariantsPanel::showTab(int index) { m_tabs->setCurrentIndex(index); }
void VariantsPanel::setStatus(const QString& text) { m_status->setText(text); }
void VariantsPanel::setTokenLabels(const QStringList& labels) {
    m_tokens = labels;
    m_tile = {};  // a new prompt: the whole map
}

void VariantsPanel::buildParams() {
    while (QLayoutItem* item = m_paramRow->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    const VariantInfo* info = infoOf(selectedVariant());
    const VariantRun* run = runOf(selectedVariant());
    if (!info) {
        if (run) m_paramRow->addWidget(new QLabel(QString::fromStdString(run->paramText), m_paramBox), 0, 0);
        return;
    }
    int n = 0;
    for (const VariantParamSpec& p : info->params) {
        const auto given = run ? run->params.find(p.name) : VariantParams::const_iterator();
        const double value = run && given != run->params.end() ? given->second : p.defaultValue;
        auto* label = new QLabel(QString::fromStdString(p.name), m_paramBox);
        label->setToolTip(QString::fromStdString(p.help));
        QWidget* editor = nullptr;
        if (!p.choices.empty()) {
            auto* box = new QComboBox(m_paramBox);
            for (const std::string& c : p.choices) box->addItem(QString::fromStdString(c));
            box->setCurrentIndex(std::clamp(int(std::lround(value)), 0, box->count() - 1));
            connect(box, &QComboBox::currentIndexChanged, this, [this] {
                requestPair();
                m_optionsTimer->start();
            });
            editor = box;
        } else {
            auto* spin = new QDoubleSpinBox(m_paramBox);
            const bool integral = std::floor(p.defaultValue) == p.defaultValue &&
                                  std::floor(p.minValue) == p.minValue && std::abs(p.defaultValue) >= 1;
            spin->setDecimals(integral ? 0 : 6);
            spin->setRange(p.minValue, std::min(p.maxValue, 1e9));
            spin->setSingleStep(integral ? 1 : std::max(0.01, std::abs(p.defaultValue) / 10));
            spin->setValue(value);
            spin->setKeyboardTracking(false);
            connect(spin, &QDoubleSpinBox::valueChanged, this, [this] {
                requestPair();
                m_optionsTimer->start();
            });
            editor = spin;
        }
        editor->setObjectName(QString::fromStdString(p.name));
        editor->setToolTip(QString::fromStdString(p.help));
        m_paramRow->addWidget(label, n / 2, (n % 2) * 2);  // two parameters per row
        m_paramRow->addWidget(editor, n / 2, (n % 2) * 2 + 1);
        ++n;
    }
    m_paramRow->setColumnStretch(1, 1);
    m_paramRow->setColumnStretch(3, 1);
}

QStringList VariantsPanel::paramAssignments() const {
    QStringList out;
    for (int i = 0; i < m_paramRow->count(); ++i) {
        QWidget* w = m_paramRow->itemAt(i)->widget();
        if (!w || w->objectName().isEmpty()) continue;
        if (auto* box = qobject_cast<QComboBox*>(w)) out << w->objectName() + QLatin1Char('=') + box->currentText();
        else if (auto* spin = qobject_cast<QDoubleSpinBox*>(w))
            out << w->objectName() + QLatin1Char('=') + QString::number(spin->value(), 'g', 10);
    }
    return out;
}

void VariantsPanel::emitOptions() {
    const QString name = selectedVariant();
    QStringList named;
    for (const QString& p : paramAssignments()) named << name + QLatin1Char('.') + p;
    emit optionsChanged(
        {QStringLiteral("--layer"), QString::number(m_layer->value()), QStringLiteral("--head"),
         QString::number(m_head->value()), QStringLiteral("--variant-map"),
         name.isEmpty() ? QStringLiteral("none") : name, QStringLiteral("--variant-params"),
         named.join(QLatin1Char(',')), QStringLiteral("--variant-substitute"),
         m_substitute->isChecked() || m_allLayers->isChecked() ? QStringLiteral("1") : QStringLiteral("0"),
         QStringLiteral("--variant-all-layers"), m_allLayers->isChecked() ? QStringLiteral("1") : QStringLiteral("0")});
}

void VariantsPanel::requestPair() {
    if (selectedVariant().isEmpty() || !hasResult()) return;
    setStatus(
        tr("Computing %1 on layer %2 head %3\u2026").arg(selectedVariant()).arg(m_layer->value()).arg(m_head->value()));
    emit pairRequested(m_layer->value(), m_head->value(), selectedVariant(), paramAssignments());
}

void VariantsPanel::setShape(int nLayers, int nHeads) {
    m_quiet = true;
    m_layer->setRange(0, std::max(0, nLayers - 1));
    m_head->setRange(0, std::max(0, nHeads - 1));
    m_quiet = false;
}

void VariantsPanel::setResult(const VariantsResult& r) {
    m_result = r;
    m_quiet = true;
    m_layer->setMaximum(std::max(m_layer->maximum(), r.layer));
    m_layer->setValue(r.layer);
    int heads = m_head->maximum() + 1;
    for (const VariantRun& v : r.variants)
        for (const VariantHeadMetrics& m : v.heads) heads = std::max(heads, m.head + 1);
    m_head->setMaximum(std::max(0, heads - 1));
    m_substitute->setChecked(
        std::any_of(r.variants.begin(), r.variants.end(), [](const VariantRun& v) { return v.hasEndToEnd; }));
    m_allLayers->setChecked(r.allLayers);
    m_quiet = false;
    if (m_catalog.empty()) fillPicker();
    if (r.hasPair) {
        selectVariant(QString::fromStdString(r.pair.name));
        m_quiet = true;
        m_head->setValue(r.pair.head);
        m_quiet = false;
        setPair(r.pair);
    } else {
        m_pair->clearPair();
        selectVariant(selectedVariant());
    }
    showCompare();
    setStatus(tr("Layer %1, %2 tokens, %3 variants.").arg(r.layer).arg(r.tokens).arg(r.variants.size()));
}

void VariantsPanel::setPair(const VariantHeadPair& p) {
    m_result.pair = p;
    m_result.hasPair = true;
    m_pair->setPair(p, m_tokens);
    m_pair->setLogScale(m_log->isChecked());
    showSummary();
    const VariantHeadMetrics& m = p.metrics;
    setStatus(tr("Layer %1 head %2, %3: output error %4, row KL %5 nats, entropy gap %6 nats, kept mass %7")
                  .arg(p.layer)
                  .arg(p.head)
                  .arg(QString::fromStdString(p.name))
                  .arg(m.outputRelErr, 0, 'g', 3)
                  .arg(m.rowKlMean, 0, 'g', 3)
                  .arg(m.entropyGap, 0, 'f', 3)
                  .arg(m.keptMass, 0, 'f', 3));
}

void VariantsPanel::showSummary() {
    const QString name = selectedVariant();
    const VariantInfo* info = infoOf(name);
    const VariantRun* run = runOf(name);
    QString text =
        info ? QStringLiteral("<b>%1</b> (%2): %3 <i>%4</i>")
                   .arg(QString::fromStdString(info->title), QString::fromLatin1(variantFamilyName(info->family)),
                        QString::fromStdString(info->explanation).toHtmlEscaped(),
                        QString::fromStdString(info->source).toHtmlEscaped())
             : QStringLiteral("<b>%1</b>").arg(name);
    const std::string& note = m_result.hasPair && QString::fromStdString(m_result.pair.name) == name
                                  ? m_result.pair.variant.note
                              : run ? run->note
                                    : std::string();
    if (!note.empty()) text += QStringLiteral("<br>") + QString::fromStdString(note).toHtmlEscaped();
    m_summary->setText(text);
}

void VariantsPanel::showKl() {
    m_kl->clearGraphs();
    m_kl->clearItems();
    const VariantRun* run = runOf(selectedVariant());
    if (!run || !run->hasEndToEnd || run->endToEnd.kl.empty()) {
        auto* text = new QCPItemText(m_kl);
        text->position->setType(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(0.5, 0.5);
        text->setText(tr("Tick \u201cEnd to end\u201d: the model re-run with the variant in place"));
        m_kl->replot();
        return;
    }
    const VariantEndToEnd& e = run->endToEnd;
    QVector<double> x(int(e.kl.size()));
    for (int i = 0; i < x.size(); ++i) x[i] = i;
    QCPGraph* g = m_kl->addGraph();
    g->setName(tr("%1: mean %2 nats, ppl %3 → %4 (from position %5), top-1 %6")
                   .arg(QString::fromStdString(run->name))
                   .arg(e.klMean, 0, 'g', 3)
                   .arg(e.pplOriginal, 0, 'f', 2)
                   .arg(e.ppl, 0, 'f', 2)
                   .arg(e.heldOutFrom)
                   .arg(e.top1, 0, 'f', 2));
    g->setPen(QPen(seriesColor(1), 1.5));
    g->setData(x, QVector<double>(e.kl.begin(), e.kl.end()), true);
    m_kl->rescaleAxes();
    m_kl->yAxis->setRangeLower(0);
    m_kl->replot();
}

void VariantsPanel::showHeads() {
    const VariantRun* run = runOf(selectedVariant());
    const QStringList headers = {
        tr("head"),        tr("out err"),   tr("cosine"),    tr("row KL"),    tr("row TV"),
        tr("H variant"),   tr("H softmax"), tr("H gap"),     tr("eff. rank"), tr("eff. rank softmax"),
        tr("stable rank"), tr("kept mass"), tr("neg. mass"), tr("sink mass"), tr("sink mass softmax"),
        tr("empty rows")};
    m_heads->setSortingEnabled(false);
    m_heads->clear();
    m_heads->setColumnCount(int(headers.size()));
    m_heads->setHorizontalHeaderLabels(headers);
    m_heads->setRowCount(run ? int(run->heads.size()) : 0);
    if (run)
        for (int r = 0; r < int(run->heads.size()); ++r) {
            const VariantHeadMetrics& m = run->heads[size_t(r)];
            const double values[] = {
                double(m.head),    m.outputRelErr,   m.cosine,     m.rowKlMean,     m.rowTvMean,
                m.entropy,         m.softmaxEntropy, m.entropyGap, m.effectiveRank, m.softmaxEffectiveRank,
                m.stableRank,      m.keptMass,       m.negMass,    m.sinkMass,      m.softmaxSinkMass,
                double(m.zeroRows)};
            for (int c = 0; c < int(std::size(values)); ++c) m_heads->setItem(r, c, new NumberItem(values[c], 4));
        }
    m_heads->setSortingEnabled(true);
    m_heads->resizeColumnsToContents();
}

void VariantsPanel::showCompare() {
    const QStringList headers = {tr("variant"), tr("parameters"), tr("out err"),   tr("cosine"),    tr("row KL"),
                                 tr("row TV"),  tr("H gap"),      tr("eff. rank"), tr("kept mass"), tr("sink mass"),
                                 tr("e2e KL"),  tr("ppl Δ"),      tr("top-1")};
    m_compare->setSortingEnabled(false);
    m_compare->clear();
    m_compare->setColumnCount(int(headers.size()));
    m_compare->setHorizontalHeaderLabels(headers);
    m_compare->setRowCount(int(m_result.variants.size()));
    for (int r = 0; r < int(m_result.variants.size()); ++r) {
        const VariantRun& v = m_result.variants[size_t(r)];
        m_compare->setItem(r, 0, new QTableWidgetItem(QString::fromStdString(v.name)));
        m_compare->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(v.paramText)));
        const VariantHeadMetrics& m = v.mean;
        const double values[] = {m.outputRelErr, m.cosine,        m.rowKlMean, m.rowTvMean,
                                 m.entropyGap,   m.effectiveRank, m.keptMass,  m.sinkMass};
        for (int c = 0; c < int(std::size(values)); ++c) m_compare->setItem(r, 2 + c, new NumberItem(values[c], 4));
        if (v.hasEndToEnd) {
            m_compare->setItem(r, 10, new NumberItem(v.endToEnd.klMean, 4));
            m_compare->setItem(r, 11, new NumberItem(v.endToEnd.ppl - v.endToEnd.pplOriginal, 4));
            m_compare->setItem(r, 12, new NumberItem(v.endToEnd.top1, 3));
        }
    }
    m_compare->setSortingEnabled(true);
    m_compare->resizeColumnsToContents();
    setCompareMetric(m_compareKey);
}

void VariantsPanel::setCompareMetric(const QString& key) {
    const Metric* metric = &kCompare[0];
    for (const Metric& m : kCompare)
        if (key == QLatin1String(m.key)) metric = &m;
    m_compareKey = QString::fromLatin1(metric->key);
    if (m_compareMetric->currentData().toString() != m_compareKey) {
        const QSignalBlocker block(m_compareMetric);
        m_compareMetric->setCurrentIndex(m_compareMetric->findData(m_compareKey));
    }
    QCustomPlot* p = m_compareBars;
    p->clearPlottables();
    p->clearItems();
    auto* bars = new QCPBars(p->yAxis, p->xAxis);  // horizontal: one bar per variant
    bars->setBrush(seriesColor(0));
    bars->setPen(Qt::NoPen);
    QSharedPointer<QCPAxisTickerText> names(new QCPAxisTickerText);
    const int n = int(m_result.variants.size());
    double lo = 0, hi = 0;
    for (int i = 0; i < n; ++i) {
        const VariantRun& v = m_result.variants[size_t(i)];
        const double y = n - 1 - i;  // the first variant at the top
        names->addTick(y, QString::fromStdString(v.name));
        const double value = metric->of(v);
        if (!std::isfinite(value)) continue;
        bars->addData(y, value);
        lo = std::min(lo, value);
        hi = std::max(hi, value);
        auto* label = new QCPItemText(p);
        label->position->setCoords(value, y);
        label->setPositionAlignment((value < 0 ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
        label->setText(QStringLiteral(" %1 ").arg(value, 0, 'g', 3));
        label->setFont(QFont(font().family(), std::max(7, font().pointSize() - 1)));
    }
    p->yAxis->setTicker(names);
    p->yAxis->setRange(-0.7, std::max(0, n - 1) + 0.7);
    p->yAxis->setLabel(QString());
    p->xAxis->setLabel(m_compareKey == QLatin1String("e2e_kl")
                           ? tr(metric->title)
                           : tr(metric->title) + tr(", mean over the layer's heads"));
    const double pad = std::max(1e-9, (hi - lo) * 0.25);
    p->xAxis->setRange(lo < 0 ? lo - pad : 0, hi + pad);
    p->replot();
}

}  // namespace attnscope::widgets
