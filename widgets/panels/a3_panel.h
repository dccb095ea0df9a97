// The A^3 lab (issue 18): how far each layer's QK, OV and MLP can be cut, and what it costs.
// A layer x component map of one metric at the chosen rank, the selected layer's error
// against rank (A^3 beside its baseline), and what the rank saves (KV bytes per token,
// weights). The result holds every rank of the sweep, so a rank edit only redraws.
// Choices the result depends on (RoPE handling, MLP refit) ask for a new computation
// through optionsChanged.
#pragma once
#include <QWidget>

#include "attnscope/analyses/a3.h"
#include "models/a3_views.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;
class QTabWidget;

namespace attnscope::widgets {

class LayerCurvesPlot;
class MatrixPlot;

class A3Panel : public QWidget {
    Q_OBJECT
public:
    explicit A3Panel(QWidget* parent = nullptr);

    void setResult(const A3Result& result);
    const A3Result& result() const { return m_result; }
    bool hasResult() const { return !m_result.layers.empty(); }
    void clear();

    // View state (sessions, figures, tests). Out-of-range values are clamped.
    void setView(int layer, A3Component component, size_t fractionIndex, A3Metric metric, A3MapMode mode);
    int layer() const { return m_layer; }
    A3Component component() const;
    size_t fractionIndex() const;
    A3Metric metric() const;
    A3MapMode mapMode() const;

    // End to end: the reduced model against the full one (the dock's job answers
    // endToEndRequested), with the two greedy continuations as text.
    void setEndToEnd(const A3EndToEnd& e, const QString& fullText, const QString& reducedText);
    void setEndToEndStatus(const QString& text);
    // The open model carries an applied profile (name), or its original weights ("").
    void setApplied(const QString& name);
    void showEndToEndTab();
    // The profile the end-to-end controls name, as options ("--a3-apply", "0.5", ...).
    QStringList endToEndProfile() const;
    // Per-layer fractions for the third profile ("0.5,0.25,..."), as a user would type them.
    void setLayerRanks(const QString& fractions);

    MatrixPlot* layerMap() const { return m_map; }
    LayerCurvesPlot* curves() const { return m_curves; }
    LayerCurvesPlot* savings() const { return m_savings; }

signals:
    // The analysis's options for a new computation ("--a3-rope", NAME, "--a3-refit", "0|1").
    void optionsChanged(const QStringList& options);
    // Evaluate this profile end to end (a3ProfileFrom's options).
    void endToEndRequested(const QStringList& profile);
    // Make this profile's weights the open model's / give the original weights back.
    void applyRequested(const QStringList& profile);
    void restoreRequested();

private:
    void redraw();
    void showMap();
    void showCurves();
    void showSavings();
    void showSummary();
    void emitOptions();
    QWidget* buildEndToEnd();

    A3Result m_result;
    int m_layer = 0;
    bool m_quiet = false;

    QComboBox *m_component = nullptr, *m_metric = nullptr, *m_mode = nullptr, *m_rope = nullptr;
    QCheckBox* m_refit = nullptr;
    QSlider* m_rank = nullptr;
    QLabel *m_rankLabel = nullptr, *m_summary = nullptr;
    MatrixPlot* m_map = nullptr;
    LayerCurvesPlot *m_curves = nullptr, *m_savings = nullptr;
    QTabWidget* m_tabs = nullptr;
    QComboBox* m_profile = nullptr;
    QDoubleSpinBox* m_epsilon = nullptr;
    QLineEdit* m_layerRanks = nullptr;
    QCheckBox *m_applyQk = nullptr, *m_applyOv = nullptr, *m_applyMlp = nullptr;
    QPushButton *m_evaluate = nullptr, *m_apply = nullptr, *m_restore = nullptr;
    QLabel *m_e2e = nullptr, *m_applied = nullptr;
};

}  // namespace attnscope::widgets
