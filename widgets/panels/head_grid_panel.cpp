#include "panels/head_grid_panel.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
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
    m_showThumbnails = new QCheckBox(tr("Maps"), this);
    m_showThumbnails->setChecked(true);
    m_showThumbnails->setToolTip(tr("Inset each head's attention map (block maximum over the whole prompt, "
                                    "scaled to its own maximum) in its score-coloured cell"));
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setEnabled(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    // The dock is narrow: the score choice shrinks rather than widening the panel.
    m_kind->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_kind->setMinimumContentsLength(10);
    auto* top = new QHBoxLayout;
    top->addWidget(m_kind, 1);
    top->addWidget(m_showThumbnails);
    layout->addLayout(top);
    layout->addWidget(m_grid, 1);
    layout->addWidget(m_note);

    connect(m_kind, &QComboBox::currentIndexChanged, this, &HeadGridPanel::showScores);
    connect(m_grid, &MatrixPlot::currentCellChanged, this, &HeadGridPanel::headSelected);
    connect(m_showThumbnails, &QCheckBox::toggled, this, &HeadGridPanel::showThumbnails);
    connect(m_grid, &QCustomPlot::afterLayout, this, &HeadGridPanel::placeThumbnails);
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
    showThumbnails();
}

void HeadGridPanel::setThumbnailsShown(bool on) { m_showThumbnails->setChecked(on); }

bool HeadGridPanel::thumbnailsShown() const { return m_showThumbnails->isChecked(); }

QImage HeadGridPanel::thumbnailImage(const Matrix2D& m) {
    QImage image(int(m.cols), int(m.rows), QImage::Format_ARGB32);
    image.fill(Qt::transparent);
    float top = 0.f;
    for (float v : m.data) top = std::isfinite(v) ? std::max(top, v) : top;
    for (int r = 0; r < m.rows; ++r)
        for (int c = 0; c <= r && c < m.cols; ++c) {  // square block grid: c > r is all future keys
            const float v = m.at(r, c);
            const int g = top > 0.f && std::isfinite(v) ? int(std::lround(255.0 * std::sqrt(std::max(0.f, v) / top))) : 0;
            image.setPixel(c, r, qRgb(g, g, g));
        }
    return image;
}

void HeadGridPanel::showThumbnails() {
    for (QCPItemPixmap* item : m_thumbnails) m_grid->removeItem(item);
    m_thumbnails.clear();
    const int H = m_scores.nHeads;
    if (thumbnailsShown() && m_grid->matrix().rows > 0) {
        for (int l = 0; l < m_scores.nLayers; ++l)
            for (int h = 0; h < H; ++h) {
                const size_t i = size_t(l * H + h);
                if (i >= m_scores.thumbnails.size() || m_scores.thumbnails[i].rows <= 0) continue;
                auto* item = new QCPItemPixmap(m_grid);
                item->setPixmap(QPixmap::fromImage(thumbnailImage(m_scores.thumbnails[i])));
                item->setScaled(true, Qt::IgnoreAspectRatio, Qt::FastTransformation);
                item->setSelectable(false);
                item->setProperty("cell", QPoint(h, l));
                m_thumbnails.push_back(item);
            }
    }
    m_grid->replot();
}

void HeadGridPanel::placeThumbnails() {
    // Square in pixels, centred in the cell, a margin of the score colour around it.
    constexpr double kFill = 0.74;
    const double cw = std::abs(m_grid->xAxis->coordToPixel(1.0) - m_grid->xAxis->coordToPixel(0.0));
    const double ch = std::abs(m_grid->yAxis->coordToPixel(1.0) - m_grid->yAxis->coordToPixel(0.0));
    if (cw <= 0 || ch <= 0) return;
    const double side = kFill * std::min(cw, ch);
    const double hx = 0.5 * side / cw, hy = 0.5 * side / ch;
    for (QCPItemPixmap* item : m_thumbnails) {
        const QPoint cell = item->property("cell").toPoint();
        item->topLeft->setCoords(cell.x() - hx, cell.y() - hy);
        item->bottomRight->setCoords(cell.x() + hx, cell.y() + hy);
    }
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
    showThumbnails();
    m_note->setText(tr("Run a prompt to score every head."));
}

}  // namespace attnscope::widgets
