#include "panels/patching_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <cmath>

#include "plot/colormaps.h"
#include "plot/matrix_plot.h"

namespace attnscope::widgets {

PatchingPanel::PatchingPanel(QWidget* parent) : QWidget(parent) {
    setProperty("computeOnRequest", true);  // it needs the corrupted prompt first
    m_corrupt = new QLineEdit(this);
    m_corrupt->setPlaceholderText(tr("corrupted prompt (same number of tokens as the prompt)"));
    m_answer = new QLineEdit(this);
    m_answer->setPlaceholderText(tr("clean answer"));
    m_wrong = new QLineEdit(this);
    m_wrong->setPlaceholderText(tr("corrupted answer"));
    m_what = new QComboBox(this);
    m_what->addItem(tr("residual stream"), QStringLiteral("resid"));
    m_what->addItem(tr("MLP output"), QStringLiteral("mlp"));
    m_what->addItem(tr("head output (all positions)"), QStringLiteral("head"));
    m_run = new QPushButton(tr("Patch"), this);
    m_plot = new MatrixPlot(this);
    m_plot->setMinimumSize(320, 200);
    m_plot->setNumbersWhenDense(false, true);
    m_plot->setColumnLabelsVertical(true);
    m_plot->setCellDescriber([this](int l, int c) {
        if (!hasResult()) return QString();
        const size_t i = size_t(l) * size_t(m_result.what == "head" ? m_result.nHeads : m_result.T) + size_t(c);
        return tr("layer %1, %2 %3<br>normalised %4<br>\u0394LD %5")
            .arg(l)
            .arg(m_result.what == "head" ? tr("head") : tr("token"))
            .arg(c)
            .arg(double(m_result.normalized[i]), 0, 'f', 3)
            .arg(double(m_result.delta[i]), 0, 'f', 3);
    });
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setText(tr("The prompt is the clean run. Type a corrupted prompt of the same length and the two answers, "
                       "then Patch: each clean activation is patched into the corrupted run in turn."));
    auto* form = new QFormLayout;
    form->addRow(tr("Corrupted"), m_corrupt);
    auto* answers = new QHBoxLayout;
    answers->addWidget(m_answer, 1);
    answers->addWidget(m_wrong, 1);
    answers->addWidget(m_what, 1);
    answers->addWidget(m_run);
    form->addRow(tr("Answers"), answers);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(form);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_note);
    connect(m_run, &QPushButton::clicked, this, &PatchingPanel::run);
}

void PatchingPanel::setInputs(const QString& corrupt, const QString& answer, const QString& wrong,
                              const QString& what) {
    m_corrupt->setText(corrupt);
    m_answer->setText(answer);
    m_wrong->setText(wrong);
    m_what->setCurrentIndex(std::max(0, m_what->findData(what)));
}

void PatchingPanel::run() {
    m_note->setText(tr("Patching\u2026"));
    emit optionsChanged({QStringLiteral("--corrupt-prompt"), m_corrupt->text(), QStringLiteral("--answer"),
                         m_answer->text(), QStringLiteral("--wrong"), m_wrong->text(), QStringLiteral("--what"),
                         m_what->currentData().toString()});
}

void PatchingPanel::setTokenPieces(const std::vector<std::string>& pieces) {
    m_tokens = pieces;
    if (hasResult()) show();
}

void PatchingPanel::setResult(const PatchResult& result) {
    m_result = result;
    show();
}

void PatchingPanel::show() {
    const bool heads = m_result.what == "head";
    const int64_t cols = heads ? m_result.nHeads : m_result.T;
    QStringList rows, labels;
    for (int l = 0; l < m_result.nLayers; ++l) rows << QString::number(l);
    for (int64_t c = 0; c < cols; ++c)
        labels << (!heads && c < int64_t(m_tokens.size()) ? QString::fromStdString(m_tokens[size_t(c)])
                                                          : QString::number(c));
    m_plot->setRowLabels(rows);
    m_plot->setColumnLabels(labels);
    m_plot->setAxisTitles(heads ? tr("head") : tr("position (token)"), tr("layer"));
    // Diverging around 0: the raw difference when the normalisation is undefined.
    const std::vector<float>& v = m_result.undefined ? m_result.delta : m_result.normalized;
    double top = 1e-6;
    for (float x : v) top = std::isfinite(x) ? std::max(top, double(std::abs(x))) : top;
    if (!m_result.undefined) top = std::max(top, 1.0);
    m_plot->setGradient(makeDivergingGradient());
    m_plot->setValueRange(QCPRange(-top, top));
    m_plot->setValueTitle(m_result.undefined ? tr("LD_patched \u2212 LD_corrupt") : tr("normalised logit difference"));
    m_plot->setMatrix(Matrix2D{m_result.nLayers, cols, v});
    m_note->setText(
        QString::fromStdString(m_result.note) +
        tr(". LD clean %1, corrupted %2.").arg(m_result.ldClean, 0, 'f', 3).arg(m_result.ldCorrupt, 0, 'f', 3));
}

}  // namespace attnscope::widgets
