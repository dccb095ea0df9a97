// Interventions: choose a component to ablate (a head, a layer's attention or MLP output at
// tokens, tokens' keys, the sink's keys) and run; the panel shows the next-token KL at every
// position, the target's logit change, and the sinks before and after. "Causal sink test"
// ablates the MLP output that creates a sink, with controls and a scale sweep (reference §F).
// The controls emit optionsChanged (the CLI's `intervene` options); the results come back as
// the section.
#pragma once
#include <QWidget>

#include "attnscope/analyses/interventions.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QCustomPlot;

namespace attnscope::widgets {

class InterventionsPanel : public QWidget {
    Q_OBJECT
public:
    explicit InterventionsPanel(QWidget* parent = nullptr);

    void setResult(const InterventionSection& result);
    const InterventionSection& result() const { return m_result; }
    bool hasResult() const { return m_has; }
    void setTokenPieces(const std::vector<std::string>& pieces);
    void setLayerCount(int layers, int heads);  // the controls' ranges
    // What the controls ask for, as options (--ablate head --layer 2 ...).
    QStringList ablationOptions() const;
    QCustomPlot* plot() const { return m_plot; }
    QTableWidget* table() const { return m_table; }

public Q_SLOTS:
    void runAblation();
    void runSinkTest(qint64 token = -1);  // -1: the longest-lived secondary sink, else the primary

signals:
    void optionsChanged(const QStringList& options);

private:
    void show();
    void showAblation();
    void showSinkTest();
    QString tokenText(int64_t t) const;

    InterventionSection m_result;
    bool m_has = false;
    std::vector<std::string> m_tokens;
    QComboBox *m_what = nullptr, *m_mode = nullptr;
    QSpinBox* m_layer = nullptr;
    QLineEdit *m_heads = nullptr, *m_positions = nullptr;
    QDoubleSpinBox* m_scale = nullptr;
    QPushButton *m_run = nullptr, *m_sinkTest = nullptr;
    QCustomPlot* m_plot = nullptr;
    QTableWidget* m_table = nullptr;
    QLabel* m_note = nullptr;
};

}  // namespace attnscope::widgets
