#include "panels/logit_lens_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QVBoxLayout>

#include "plot/colormaps.h"
#include "plot/matrix_plot.h"

namespace attnscope::widgets {

LogitLensPanel::LogitLensPanel(QWidget* parent) : QWidget(parent) {
    m_view = new QComboBox(this);
    m_view->addItem(tr("KL to the output (nats)"));
    m_view->addItem(tr("Rank of the output's token"));
    m_view->addItem(tr("Probability of the top token"));
    m_view->addItem(tr("Probability of the target"));
    m_target = new QLineEdit(this);
    m_target->setPlaceholderText(tr("follow a token (text)"));
    m_target->setToolTip(tr("Type a token and press Enter: its probability and rank at every layer and position"));
    m_plot = new MatrixPlot(this);
    m_plot->setAxisTitles(tr("position (token)"), tr("layer"));
    m_plot->setNumbersWhenDense(false, true);
    m_plot->setColumnLabelsVertical(true);
    m_plot->setMinimumSize(320, 220);
    m_plot->setZoomable(Qt::Horizontal);
    m_plot->setCellDescriber([this](int layer, int t) {
        if (!hasLens()) return QString();
        const size_t at = size_t(layer) * size_t(m_lens.T) + size_t(t);
        QString s =
            tr("layer %1, token %2 %3<br>KL to output %4 nats, output's token at rank %5")
                .arg(layer)
                .arg(t)
                .arg(t < int(m_tokens.size()) ? QString::fromStdString(m_tokens[size_t(t)]).toHtmlEscaped() : QString())
                .arg(double(m_lens.klToFinal[at]), 0, 'g', 3)
                .arg(m_lens.finalRank[at]);
        if (m_lens.target >= 0)
            s += tr("<br>target %1: p = %2, rank %3")
                     .arg(piece(m_lens.target).toHtmlEscaped())
                     .arg(double(m_lens.targetProb[at]), 0, 'g', 3)
                     .arg(m_lens.targetRank[at]);
        for (int k = 0; k < m_lens.topK; ++k) {
            const size_t i = at * size_t(m_lens.topK) + size_t(k);
            s += QStringLiteral("<br>%1. %2 &nbsp; %3")
                     .arg(k + 1)
                     .arg(piece(m_lens.top[i]).toHtmlEscaped())
                     .arg(double(m_lens.topProb[i]), 0, 'f', 3);
        }
        return s;
    });
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setEnabled(false);
    auto* top = new QHBoxLayout;
    top->addWidget(m_view, 1);
    top->addWidget(m_target, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_note);
    connect(m_view, &QComboBox::currentIndexChanged, this, &LogitLensPanel::show);
    connect(m_target, &QLineEdit::returnPressed, this, [this] {
        const QString t = m_target->text();
        emit optionsChanged(t.isEmpty() ? QStringList{} : QStringList{QStringLiteral("--target"), t});
    });
    m_note->setText(tr("Run a prompt: each layer's residual stream read through the final norm and unembedding."));
}

QString LogitLensPanel::piece(int32_t id) const {
    const auto it = m_lens.pieces.find(id);
    return it != m_lens.pieces.end() ? QString::fromStdString(it->second) : QStringLiteral("#%1").arg(id);
}

void LogitLensPanel::setTokenPieces(const std::vector<std::string>& pieces) {
    m_tokens = pieces;
    show();
}

void LogitLensPanel::setLens(const LogitLens& lens) {
    m_lens = lens;
    show();
}

void LogitLensPanel::setView(View view) { m_view->setCurrentIndex(int(view)); }

LogitLensPanel::View LogitLensPanel::view() const { return View(std::max(0, m_view->currentIndex())); }

void LogitLensPanel::show() {
    if (!hasLens()) return;
    View v = view();
    if (v == View::TargetProb && m_lens.target < 0) v = View::KlToFinal;
    const size_t n = size_t(m_lens.nLayers) * size_t(m_lens.T);
    std::vector<float> values(n);
    for (size_t i = 0; i < n; ++i) {
        switch (v) {
        case View::KlToFinal: values[i] = m_lens.klToFinal[i]; break;
        case View::FinalRank: values[i] = std::log10(1.f + float(m_lens.finalRank[i])); break;
        case View::TopProb: values[i] = m_lens.topProb[i * size_t(m_lens.topK)]; break;
        case View::TargetProb: values[i] = m_lens.targetProb[i]; break;
        }
    }
    QStringList layers, tokens;
    for (int l = 0; l < m_lens.nLayers; ++l) layers << QString::number(l);
    for (int64_t t = 0; t < m_lens.T; ++t)
        tokens << (t < int64_t(m_tokens.size()) ? QString::fromStdString(m_tokens[size_t(t)]) : QString::number(t));
    m_plot->setRowLabels(layers);
    m_plot->setColumnLabels(tokens);
    m_plot->setGradient(
        makeGradient(v == View::KlToFinal || v == View::FinalRank ? Colormap::Magma : Colormap::Viridis));
    m_plot->setValueRange(v == View::TopProb || v == View::TargetProb ? std::optional<QCPRange>(QCPRange(0, 1))
                                                                      : std::nullopt);
    static const char* titles[] = {"KL(p_out ‖ p_layer) (nats)", "log10(1 + rank of the output's token)",
                                   "top token's probability", "target's probability"};
    m_plot->setValueTitle(tr(titles[int(v)]));
    m_plot->setMatrix(Matrix2D{m_lens.nLayers, m_lens.T, std::move(values)});
    QString note = tr("Rows: the residual stream after each layer (the last row is the model's output). Hover a cell "
                      "for its top %1 tokens.")
                       .arg(m_lens.topK);
    if (m_lens.target >= 0) note += tr(" Target: %1.").arg(piece(m_lens.target).toHtmlEscaped());
    m_note->setText(note);
}

}  // namespace attnscope::widgets
