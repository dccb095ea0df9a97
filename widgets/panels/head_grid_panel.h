// All layers x heads at a glance, coloured by a per-head score; clicking a cell or moving
// with the arrow keys opens that head in the other views.
#pragma once
#include <QWidget>

#include "models/head_scores.h"

class QComboBox;
class QLabel;

namespace attnscope::widgets {

class MatrixPlot;

class HeadGridPanel : public QWidget {
    Q_OBJECT
public:
    explicit HeadGridPanel(QWidget* parent = nullptr);

    void setScores(const HeadScoreTable& scores);
    void clear();
    const HeadScoreTable& scores() const { return m_scores; }
    void setScoreKind(HeadScoreKind kind);
    HeadScoreKind scoreKind() const;
    // Follow the shared selection (head -1, the mean of heads, outlines nothing). Emits nothing.
    void setCurrent(int layer, int head);
    void setStatus(const QString& text);

    MatrixPlot* grid() const { return m_grid; }

signals:
    void headSelected(int layer, int head);

private:
    void showScores();

    HeadScoreTable m_scores;
    QComboBox* m_kind = nullptr;
    QLabel* m_note = nullptr;
    MatrixPlot* m_grid = nullptr;
};

}  // namespace attnscope::widgets
