#include "panels/head_grid_panel.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "plot/colormaps.h"
#include "plot/matrix_plot.h"

namespace attnscope::widgets {
namespace {

// "induction (induction_repeated 0.93 ≥ 0.3)", or "no role".
QString roleText(const HeadScoreTable& t, int layer, int head) {
    const size_t i = size_t(layer * t.nHeads + head);
    const std::vector<std::string> roles = headRoles(t);
    if (i >= roles.size() || roles[i].empty()) return QObject::tr("no role");
    QString why;
    for (size_t d = 0; d < t.infos.size(); ++d)
        if (t.infos[d].role == roles[i] && t.values[d][i] >= t.infos[d].threshold)
            why += QStringLiteral(" %1 %2 ≥ %3")
                       .arg(QString::fromStdString(t.infos[d].id))
                       .arg(double(t.values[d][i]), 0, 'g', 3)
                       .arg(t.infos[d].threshold);
    return QString::fromStdString(roles[i]) + QStringLiteral(" (") + why.trimmed() + QStringLiteral(")");
}

}  // namespace

HeadGridPanel::HeadGridPanel(QWidget* parent) : QWidget(parent) {
    m_kind = new QComboBox(this);
    m_grid = new MatrixPlot(this);
    m_grid->setAxisTitles(tr("head"), tr("layer"));
    m_grid->setKeyboardNavigation(true);
    m_grid->setMinimumSize(200, 160);
    m_grid->setCellDescriber([this](int layer, int head) {
        const Matrix2D& m = m_grid->matrix();
        return tr("layer %1, head %2<br>%3 = %4<br>click to open this head")
            .arg(layer)
            .arg(head)
            .arg(scoreViewTitle())
            .arg(m_view == kHeadRolesView ? roleText(m_scores, layer, head)
                                          : QString::number(double(m.at(layer, head)), 'g', 4));
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

    connect(m_kind, &QComboBox::activated, this, [this](int index) {
        m_view = m_kind->itemData(index).toString().toStdString();
        showScores();
    });
    connect(m_grid, &MatrixPlot::currentCellChanged, this, &HeadGridPanel::headSelected);
    connect(m_showThumbnails, &QCheckBox::toggled, this, &HeadGridPanel::showThumbnails);
    connect(m_grid, &QCustomPlot::afterLayout, this, &HeadGridPanel::placeThumbnails);
    clear();
}

void HeadGridPanel::setScoreView(const std::string& view) {
    m_view = view;
    fillViews();
    showScores();
}

QString HeadGridPanel::scoreViewTitle() const {
    const int i = m_kind->currentIndex();
    return i >= 0 ? m_kind->itemText(i) : QString();
}

void HeadGridPanel::fillViews() {
    const QSignalBlocker block(m_kind);
    m_kind->clear();
    for (const HeadDetectorInfo& info : m_scores.infos) {
        m_kind->addItem(QString::fromStdString(info.title), QString::fromStdString(info.id));
        QString help = QString::fromStdString(info.help);
        if (auto note = m_scores.notes.find(info.id); note != m_scores.notes.end())
            help += QStringLiteral("\n\n") + QString::fromStdString(note->second);
        m_kind->setItemData(m_kind->count() - 1, help, Qt::ToolTipRole);
    }
    if (!headRoleNames(m_scores).empty()) {
        m_kind->addItem(tr("Roles"), QString::fromLatin1(kHeadRolesView));
        m_kind->setItemData(m_kind->count() - 1,
                            tr("Each head labelled with the role whose score is highest relative to its threshold "
                               "(grey: no score reaches its threshold)."),
                            Qt::ToolTipRole);
    }
    int at = m_kind->findData(QString::fromStdString(m_view));
    if (at < 0 && m_kind->count() > 0) {
        at = 0;
        m_view = m_kind->itemData(0).toString().toStdString();
    }
    m_kind->setCurrentIndex(at);
}

void HeadGridPanel::setScores(const HeadScoreTable& scores) {
    const bool sameViews = [&] {
        if (scores.infos.size() != m_scores.infos.size() || m_kind->count() == 0) return false;
        for (size_t i = 0; i < scores.infos.size(); ++i)
            if (scores.infos[i].id != m_scores.infos[i].id) return false;
        return headRoleNames(scores).empty() == headRoleNames(m_scores).empty();
    }();
    m_scores = scores;
    if (!sameViews) fillViews();
    QStringList layers, heads;
    for (int l = 0; l < scores.nLayers; ++l) layers << QString::number(l);
    for (int h = 0; h < scores.nHeads; ++h) heads << QString::number(h);
    m_grid->setRowLabels(layers);
    m_grid->setColumnLabels(heads);
    showScores();
}

void HeadGridPanel::showScores() {
    const bool roles = m_view == kHeadRolesView;
    const int index = m_scores.indexOf(m_view);
    m_kind->setToolTip(m_kind->itemData(m_kind->currentIndex(), Qt::ToolTipRole).toString());
    QCPColorScale* scale = m_grid->colorScaleElement();
    if (roles) {
        // A categorical colour bar: one band per role, named on its axis.
        const std::vector<std::string> names = headRoleNames(m_scores);
        const int n = int(names.size());
        QCPColorGradient g;
        g.setLevelCount(n + 1);
        g.setColorInterpolation(QCPColorGradient::ciRGB);
        for (int r = 0; r <= n; ++r) g.setColorStopAt(n > 0 ? double(r) / n : 0.0, headRoleColor(r));
        m_grid->setGradient(g);
        // QCustomPlot picks a level as int((v − lower) · levels / range): role r sits in band r.
        m_grid->setValueRange(QCPRange(-0.49, n - 0.49));
        auto ticker = QSharedPointer<QCPAxisTickerText>::create();
        ticker->addTick(0, tr("none"));
        for (int r = 0; r < n; ++r) ticker->addTick(r + 1, QString::fromStdString(names[size_t(r)]));
        scale->axis()->setTicker(ticker);
        m_grid->setValueTitle(tr("role"));
    } else {
        m_grid->setGradient(makeGradient(Colormap::Viridis));
        m_grid->setValueRange(std::nullopt);
        scale->axis()->setTicker(QSharedPointer<QCPAxisTicker>::create());
        m_grid->setValueTitle(index >= 0 ? QString::fromStdString(m_scores.infos[size_t(index)].axis) : QString());
    }
    const Matrix2D m = headScoreMatrix(m_scores, m_view);
    if (m.rows > 0) m_grid->setMatrix(m);
    else m_grid->clearMatrix();
    QString note = tr("Click a head or use the arrow keys to open it.");
    if (index >= 0)
        if (auto it = m_scores.notes.find(m_view); it != m_scores.notes.end())
            note = QString::fromStdString(it->second) + QStringLiteral(". ") + note;
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
    fillViews();
    m_grid->clearMatrix();
    showThumbnails();
    m_note->setText(tr("Run a prompt to score every head."));
}

}  // namespace attnscope::widgets
