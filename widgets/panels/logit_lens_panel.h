// The logit lens: layer x position, each cell one layer's residual stream read through the final
// norm and unembedding at one token. Colour: KL to the model's output, the rank of the output's
// token, the top token's probability, or a followed target's probability; each cell's tooltip
// lists its top tokens. A target typed in recomputes the lens (optionsChanged).
#pragma once
#include <QWidget>

#include "attnscope/analyses/interventions.h"

class QComboBox;
class QLabel;
class QLineEdit;

namespace attnscope::widgets {

class MatrixPlot;

class LogitLensPanel : public QWidget {
    Q_OBJECT
public:
    enum class View { KlToFinal, FinalRank, TopProb, TargetProb };

    explicit LogitLensPanel(QWidget* parent = nullptr);

    void setLens(const LogitLens& lens);
    const LogitLens& lens() const { return m_lens; }
    bool hasLens() const { return m_lens.nLayers > 0; }
    void setView(View view);
    View view() const;
    MatrixPlot* plot() const { return m_plot; }
    // The prompt's tokens (the x axis); a session restore sets them from the session.
    void setTokenPieces(const std::vector<std::string>& pieces);
    QString piece(int32_t id) const;

signals:
    void optionsChanged(const QStringList& options);

private:
    void show();

    LogitLens m_lens;
    std::vector<std::string> m_tokens;
    QComboBox* m_view = nullptr;
    QLineEdit* m_target = nullptr;
    QLabel* m_note = nullptr;
    MatrixPlot* m_plot = nullptr;
};

}  // namespace attnscope::widgets
