// All layers x heads at a glance: each cell coloured by a head-role detector's score, or by the
// role each head plays (a categorical colour bar names them), with a thumbnail
// of the head's attention map inset (grey, block max over the whole prompt; the causal
// upper triangle left clear so the score colour shows); clicking a cell or moving with the
// arrow keys opens that head in the other views.
#pragma once
#include <vector>

#include <QImage>
#include <QWidget>

#include "models/head_scores.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QCPItemPixmap;

namespace attnscope::widgets {

class MatrixPlot;

class HeadGridPanel : public QWidget {
    Q_OBJECT
public:
    explicit HeadGridPanel(QWidget* parent = nullptr);

    void setScores(const HeadScoreTable& scores);
    void clear();
    const HeadScoreTable& scores() const { return m_scores; }
    // What the grid shows: a detector id of the table, or kHeadRolesView. Kept across tables; a
    // view the table lacks shows its first detector.
    void setScoreView(const std::string& view);
    const std::string& scoreView() const { return m_view; }
    QString scoreViewTitle() const;  // the combo's text
    // Follow the shared selection (head -1, the mean of heads, outlines nothing). Emits nothing.
    void setCurrent(int layer, int head);
    void setStatus(const QString& text);

    MatrixPlot* grid() const { return m_grid; }
    void setThumbnailsShown(bool on);
    bool thumbnailsShown() const;
    int thumbnailCount() const { return int(m_thumbnails.size()); }  // drawn now
    // A thumbnail's image: the matrix scaled to its maximum, sqrt so weaker structure shows,
    // dark = 0 and light = the maximum; cells above the diagonal transparent.
    static QImage thumbnailImage(const Matrix2D& m);

signals:
    void headSelected(int layer, int head);

private:
    void showScores();
    void fillViews();  // the combo's items from the table's detectors
    void showThumbnails();
    void placeThumbnails();

    HeadScoreTable m_scores;
    std::string m_view = "entropy";
    QComboBox* m_kind = nullptr;
    QCheckBox* m_showThumbnails = nullptr;
    std::vector<QCPItemPixmap*> m_thumbnails;
    QLabel* m_note = nullptr;
    MatrixPlot* m_grid = nullptr;
};

}  // namespace attnscope::widgets
