#include "panels/head_grid_panel.h"

#include <algorithm>

#include <QComboBox>
#include <QLabel>
#include <QVBoxLayout>

#include "plot/matrix_plot.h"

namespace attnscope::widgets {

HeadGridPanel::HeadGridPanel(QWidget* parent) : QWidget(parent) {
    m_kind = new QComboBox(this);
    for (HeadScoreKind k : kAllHeadScores) {
        m_kind->addItem(headScoreName(k));
        m_kind->setItemData(m_kind->count() - 1, headScoreHelp(k), Qt::ToolTipRole);
    }
    m_grid = new MatrixPlot(this);
    m_grid->setAxisTitles(tr("head"), tr("layer"));
    m_grid->setKeyboardNavigation(true);
    m_grid->setMinimumSize(200, 160);
    m_grid->setCellDescriber([this](int layer, int head) {
        const Matrix2D& m = m_grid->matrix();
        return tr("layer %1, head %2<br>%3 = %4<br>click to open this head")
            .arg(layer).arg(head).arg(headScoreName(scoreKind()))
            .arg(double(m.at(layer, head)), 0, 'g', 4);
    });
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setEnabled(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_kind);
    layout->addWidget(m_grid, 1);
    layout->addWidget(m_note);

    connect(m_kind, &QComboBox::currentIndexChanged, this, &HeadGridPanel::showScores);
    connect(m_grid, &MatrixPlot::currentCellChanged, this, &HeadGridPanel::headSelected);
    clear();
}

HeadScoreKind HeadGridPanel::scoreKind() const { return kAllHeadScores[size_t(std::max(0, m_kind->currentIndex()))]; }

void HeadGridPanel::setScoreKind(HeadScoreKind kind) {
    m_kind->setCurrentIndex(int(std::find(kAllHeadScores.begin(), kAllHeadScores.end(), kind) - kAllHeadScores.begin()));
}

void HeadGridPanel::setScores(const HeadScoreTable& scores) {
    m_scores = scores;
    QStringList layers, heads;
    for (int l = 0; l < scores.nLayers; ++l) layers << QString::number(l);
    for (int h = 0; h < scores.nHeads; ++h) heads << QString::number(h);
    m_grid->setRowLabels(layers);
    m_grid->setColumnLabels(heads);
    showScores();
}

void HeadGridPanel::showScores() {
    const HeadScoreKind kind = scoreKind();
    m_kind->setToolTip(headScoreHelp(kind));
    m_grid->setValueTitle(headScoreTitle(kind));
    const Matrix2D m = headScoreMatrix(m_scores, kind);
    if (m.rows > 0) m_grid->setMatrix(m);
    else m_grid->clearMatrix();
    const bool sampled = m_scores.sampledRows > 0 && m_scores.sampledRows < m_scores.tokens;
    QString note = tr("Click a head or use the arrow keys to open it.");
    if (sampled && (kind == HeadScoreKind::PreviousToken || kind == HeadScoreKind::Diagonal))
        note += tr(" Estimated from %1 of %2 query rows (evenly spaced blocks).").arg(m_scores.sampledRows).arg(m_scores.tokens);
    m_note->setText(note);
}

void HeadGridPanel::setCurrent(int layer, int head) {
    if (layer == m_grid->currentRow() && head == m_grid->currentColumn()) return;
    m_grid->setCurrentCell(head >= 0 ? layer : -1, head);
}

void HeadGridPanel::setStatus(const QString& text) {
    m_note->setText(text);
}

void HeadGridPanel::clear() {
    m_scores = {};
    m_grid->clearMatrix();
    m_note->setText(tr("Run a prompt to score every head."));
}

}  // namespace attnscope::widgets
