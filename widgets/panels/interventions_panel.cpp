#include "panels/interventions_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

namespace attnscope::widgets {
namespace {

struct WhatItem {
    const char* key;
    const char* text;
};
constexpr WhatItem kWhat[] = {{"head", "a head's output"},       {"attn", "attention output at tokens"},
                              {"mlp", "MLP output at tokens"},   {"kv", "tokens' keys and values"},
                              {"sink", "the sink's (BOS) keys"}, {"none", "nothing (the run itself)"}};

QString numbers(const std::vector<float>& v, int from, int to) {
    QStringList s;
    for (int i = from; i < to && i < int(v.size()); ++i) s << QString::number(double(v[size_t(i)]), 'f', 3);
    return s.join(QStringLiteral(" "));
}

}  // namespace

InterventionsPanel::InterventionsPanel(QWidget* parent) : QWidget(parent) {
    setProperty("computeOnRequest", true);  // nothing to show until the user asks
    m_what = new QComboBox(this);
    for (const WhatItem& w : kWhat) m_what->addItem(tr(w.text), QString::fromLatin1(w.key));
    m_layer = new QSpinBox(this);
    m_heads = new QLineEdit(this);
    m_heads->setPlaceholderText(tr("all heads"));
    m_positions = new QLineEdit(this);
    m_positions->setPlaceholderText(tr("all positions"));
    m_positions->setToolTip(tr("Comma-separated token positions (0 = the first token). Keys: the tokens hidden."));
    m_mode = new QComboBox(this);
    m_mode->addItem(tr("mean over positions"), QStringLiteral("mean"));
    m_mode->addItem(tr("zero"), QStringLiteral("zero"));
    m_mode->addItem(tr("scale by"), QStringLiteral("scale"));
    m_scale = new QDoubleSpinBox(this);
    m_scale->setRange(-10, 10);
    m_scale->setSingleStep(0.5);
    m_scale->setValue(0);
    m_run = new QPushButton(tr("Ablate and re-run"), this);
    m_sinkTest = new QPushButton(tr("Causal sink test"), this);
    m_sinkTest->setToolTip(tr("Find a sink and the layer whose MLP creates it; ablate that MLP output at the sink "
                              "token (and, as controls, another layer and a non-sink token; and a scale sweep) and "
                              "compare its sink score and lifetime (Wong et al., arXiv 2512.22213)."));
    auto* form = new QFormLayout;
    form->addRow(tr("Ablate"), m_what);
    auto* where = new QHBoxLayout;
    where->addWidget(new QLabel(tr("layer"), this));
    where->addWidget(m_layer);
    where->addWidget(new QLabel(tr("heads"), this));
    where->addWidget(m_heads, 1);
    where->addWidget(new QLabel(tr("tokens"), this));
    where->addWidget(m_positions, 1);
    form->addRow(where);
    auto* how = new QHBoxLayout;
    how->addWidget(m_mode, 1);
    how->addWidget(m_scale);
    how->addWidget(m_run);
    how->addWidget(m_sinkTest);
    form->addRow(tr("Replace by"), how);

    m_plot = new QCustomPlot(this);
    m_plot->setMinimumHeight(180);
    m_plot->xAxis->setLabel(tr("position (next-token prediction at this token)"));
    m_plot->yAxis->setLabel(tr("KL(run \u2016 ablated) (nats)"));
    m_plot->yAxis2->setLabel(tr("\u0394 logit of the target"));
    m_plot->yAxis2->setVisible(true);
    m_plot->legend->setVisible(true);
    m_table = new QTableWidget(this);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setVisible(false);
    m_table->setMinimumHeight(120);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setText(tr("Choose what to ablate and press \u201cAblate and re-run\u201d, or run the causal sink test."));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(form);
    layout->addWidget(m_plot, 3);
    layout->addWidget(m_table, 2);
    layout->addWidget(m_note);
    auto modeChanged = [this] { m_scale->setEnabled(m_mode->currentData().toString() == QLatin1String("scale")); };
    connect(m_mode, &QComboBox::currentIndexChanged, this, modeChanged);
    modeChanged();
    connect(m_run, &QPushButton::clicked, this, &InterventionsPanel::runAblation);
    connect(m_sinkTest, &QPushButton::clicked, this, [this] { runSinkTest(-1); });
}

void InterventionsPanel::setLayerCount(int layers, int heads) {
    m_layer->setRange(0, std::max(0, layers - 1));
    m_heads->setToolTip(tr("Comma-separated heads 0..%1; empty: every head of the layer").arg(heads - 1));
}

QStringList InterventionsPanel::ablationOptions() const {
    const QString what = m_what->currentData().toString();
    QStringList o = {QStringLiteral("--ablate"), what,
                     QStringLiteral("--layer"),  QString::number(m_layer->value()),
                     QStringLiteral("--mode"),   m_mode->currentData().toString()};
    if (m_mode->currentData().toString() == QLatin1String("scale"))
        o << QStringLiteral("--scale") << QString::number(m_scale->value());
    const QString heads = m_heads->text().simplified().remove(' '),
                  tokens = m_positions->text().simplified().remove(' ');
    if (what == QLatin1String("head") && !heads.isEmpty()) o << QStringLiteral("--heads") << heads;
    if (!tokens.isEmpty() && what != QLatin1String("sink") && what != QLatin1String("none"))
        o << QStringLiteral("--tokens") << tokens;
    return o;
}

void InterventionsPanel::runAblation() {
    m_note->setText(tr("Re-running with the ablation\u2026"));
    emit optionsChanged(ablationOptions());
}

void InterventionsPanel::runSinkTest(qint64 token) {
    m_note->setText(tr("Running the causal sink test\u2026"));
    emit optionsChanged({QStringLiteral("--sink-test"), token >= 0 ? QString::number(token) : QStringLiteral("auto")});
}

void InterventionsPanel::setTokenPieces(const std::vector<std::string>& pieces) {
    m_tokens = pieces;
    if (m_has) show();
}

QString InterventionsPanel::tokenText(int64_t t) const {
    return t >= 0 && t < int64_t(m_tokens.size())
               ? QStringLiteral("%1 %2").arg(t).arg(QString::fromStdString(m_tokens[size_t(t)]))
               : QString::number(t);
}

void InterventionsPanel::setResult(const InterventionSection& result) {
    m_result = result;
    m_has = true;
    show();
}

void InterventionsPanel::show() {
    m_plot->clearGraphs();
    m_plot->clearPlottables();
    m_table->clear();
    if (m_result.kind == "sink_test") showSinkTest();
    else showAblation();
    m_plot->replot();
}

void InterventionsPanel::showAblation() {
    const InterventionResult& r = m_result.ablation;
    m_plot->xAxis->setLabel(tr("position (next-token prediction at this token)"));
    m_plot->yAxis->setLabel(tr("KL(run \u2016 ablated) (nats)"));
    m_plot->yAxis2->setVisible(true);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    m_layer->setMaximum(std::max(m_layer->maximum(), r.nLayers - 1));
    QVector<double> x, kl, dl;
    for (int64_t t = 0; t < r.T; ++t) {
        x << double(t);
        kl << double(r.kl[size_t(t)]);
        dl << double(r.logitDelta[size_t(t)]);
    }
    auto* bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    bars->setName(tr("next-token KL"));
    bars->setData(x, kl);
    bars->setWidth(0.8);
    bars->setBrush(QColor(213, 94, 0, 170));
    bars->setPen(Qt::NoPen);
    QCPGraph* g = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis2);
    g->setName(r.params.target >= 0 ? tr("\u0394 logit of the target") : tr("\u0394 logit of the run's top-1"));
    g->setData(x, dl);
    g->setPen(QPen(QColor(0, 114, 178), 1));
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    const int64_t step = std::max<int64_t>(1, r.T / 24);
    for (int64_t t = 0; t < r.T; t += step) ticker->addTick(double(t), tokenText(t));
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setTickLabelRotation(60);
    m_plot->xAxis->setRange(-0.5, double(r.T) - 0.5);
    m_plot->yAxis->rescale();
    m_plot->yAxis->setRangeLower(0);
    m_plot->yAxis2->rescale();
    // The sinks of both runs.
    m_table->setColumnCount(5);
    m_table->setHorizontalHeaderLabels(
        {tr("token"), tr("lifetime before"), tr("after"), tr("sink score by layer, before"), tr("after")});
    m_table->setRowCount(int(r.tracked.size()));
    for (size_t i = 0; i < r.tracked.size(); ++i) {
        const int L = r.nLayers;
        m_table->setItem(int(i), 0, new QTableWidgetItem(tokenText(r.tracked[i])));
        m_table->setItem(int(i), 1, new QTableWidgetItem(QString::number(r.lifetimeBefore[i])));
        m_table->setItem(int(i), 2, new QTableWidgetItem(QString::number(r.lifetimeAfter[i])));
        m_table->setItem(int(i), 3, new QTableWidgetItem(numbers(r.scoreBefore, int(i) * L, int(i + 1) * L)));
        m_table->setItem(int(i), 4, new QTableWidgetItem(numbers(r.scoreAfter, int(i) * L, int(i + 1) * L)));
    }
    m_table->resizeColumnsToContents();
    m_note->setText(tr("%1. Mean next-token KL %2 nats (max %3), top-1 unchanged at %4% of positions.")
                        .arg(QString::fromStdString(r.note))
                        .arg(r.meanKl, 0, 'g', 3)
                        .arg(r.maxKl, 0, 'g', 3)
                        .arg(100.0 * r.top1Agreement, 0, 'f', 1));
}

void InterventionsPanel::showSinkTest() {
    const SinkTestResult& s = m_result.sinkTest;
    const int L = s.rows.empty() ? 0 : int(s.rows[0].scoreBefore.size());
    QVector<double> x;
    for (int l = 0; l < L; ++l) x << double(l);
    static const QColor colors[] = {QColor(0, 0, 0),      QColor(213, 94, 0),    QColor(0, 114, 178),
                                    QColor(0, 158, 115),  QColor(204, 121, 167), QColor(230, 159, 0),
                                    QColor(86, 180, 233), QColor(120, 120, 120)};
    for (size_t i = 0; i < s.rows.size(); ++i) {
        const SinkTestRow& row = s.rows[i];
        if (i == 0) {
            QCPGraph* before = m_plot->addGraph();
            before->setName(tr("token %1, run").arg(row.token));
            before->setData(x, QVector<double>(row.scoreBefore.begin(), row.scoreBefore.end()));
            before->setPen(QPen(Qt::black, 1, Qt::DashLine));
        }
        if (row.token != s.token) continue;  // the control token's curve is in the table
        if (row.mode == "scale" && row.scale == 0.0 && s.rows[0].mode == "zero") continue;  // = the creation row
        QCPGraph* g = m_plot->addGraph();
        g->setName(QString::fromStdString(row.label));
        g->setData(x, QVector<double>(row.scoreAfter.begin(), row.scoreAfter.end()));
        g->setPen(QPen(colors[(i + 1) % 8], 1));
    }
    m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerFixed>::create());
    qSharedPointerCast<QCPAxisTickerFixed>(m_plot->xAxis->ticker())->setTickStep(1);
    m_plot->xAxis->setTickLabelRotation(0);
    m_plot->xAxis->setLabel(tr("layer"));
    m_plot->yAxis->setLabel(tr("sink score of token %1 (mean attention received)").arg(s.token));
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignLeft);
    m_plot->yAxis2->setVisible(false);
    m_plot->xAxis->setRange(-0.5, L - 0.5);
    m_plot->yAxis->rescale();
    m_plot->yAxis->setRangeLower(0);
    m_table->setColumnCount(9);
    m_table->setHorizontalHeaderLabels({tr("case"), tr("token"), tr("layer"), tr("lifetime before"), tr("after"),
                                        tr("score after creation, before"), tr("after"), tr("\u2016y\u2016"),
                                        tr("mean KL")});
    m_table->setRowCount(int(s.rows.size()));
    for (size_t i = 0; i < s.rows.size(); ++i) {
        const SinkTestRow& r = s.rows[i];
        const size_t at = size_t(std::min(L - 1, s.creationLayer + 1));
        const QStringList cells = {QString::fromStdString(r.label),
                                   tokenText(r.token),
                                   QString::number(r.layer),
                                   QString::number(r.lifetimeBefore),
                                   QString::number(r.lifetimeAfter),
                                   QString::number(double(r.scoreBefore[at]), 'f', 4),
                                   QString::number(double(r.scoreAfter[at]), 'f', 4),
                                   QString::number(double(r.mlpNorm), 'g', 3),
                                   QString::number(r.meanKl, 'g', 3)};
        for (int c = 0; c < cells.size(); ++c) m_table->setItem(int(i), c, new QTableWidgetItem(cells[c]));
    }
    m_table->resizeColumnsToContents();
    m_note->setText(QString::fromStdString(s.note) +
                    tr(". The dashed curve is the run; a sink created by that MLP loses its score after the ablation, "
                       "the controls should not."));
}

}  // namespace attnscope::widgets
