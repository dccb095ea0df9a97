// Activation patching: a corrupted prompt of the clean prompt's length, the two answers, what to
// patch (residual, MLP output, head); the map of the normalised logit difference, layer x
// position or layer x head, diverging around 0 (1 = the clean behaviour restored).
#pragma once
#include <QWidget>

#include "attnscope/analyses/interventions.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace attnscope::widgets {

class MatrixPlot;

class PatchingPanel : public QWidget {
    Q_OBJECT
public:
    explicit PatchingPanel(QWidget* parent = nullptr);

    void setResult(const PatchResult& result);
    const PatchResult& result() const { return m_result; }
    bool hasResult() const { return m_result.nLayers > 0; }
    void setTokenPieces(const std::vector<std::string>& pieces);
    MatrixPlot* plot() const { return m_plot; }
    // Fill the inputs (tests, teaching mode) and run.
    void setInputs(const QString& corrupt, const QString& answer, const QString& wrong, const QString& what);
    void run();

signals:
    void optionsChanged(const QStringList& options);

private:
    void show();

    PatchResult m_result;
    std::vector<std::string> m_tokens;
    QLineEdit *m_corrupt = nullptr, *m_answer = nullptr, *m_wrong = nullptr;
    QComboBox* m_what = nullptr;
    QPushButton* m_run = nullptr;
    QLabel* m_note = nullptr;
    MatrixPlot* m_plot = nullptr;
};

}  // namespace attnscope::widgets
