// The quantization error lab (issue 8). Weights: per-layer bars of one error for two
// methods side by side and every reconstruction's error against rank for the selected
// matrix; the rank slider redraws from the precomputed tables it was given. KV cache and
// scores: a layers x tokens error map with the sinks marked and |Ŝ − S| of the selected
// head. Pure view: the app computes on its worker and hands in plain results.
#pragma once
#include <cstdint>
#include <vector>

#include <QWidget>

#include "models/quant_views.h"

class QCheckBox;
class QComboBox;
class QCPBars;
class QCPItemStraightLine;
class QCustomPlot;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QSpinBox;

namespace attnscope::widgets {

class LayerCurvesPlot;
class MatrixPlot;

class QuantPanel : public QWidget {
    Q_OBJECT
public:
    explicit QuantPanel(QWidget* parent = nullptr);

    // Weights.
    void setLab(const QuantLabView& lab);
    const QuantLabView& lab() const { return m_lab; }
    WeightQuantParams weightParams() const;
    void setMethods(ReconMethod a, ReconMethod b);  // redraws, emits nothing else
    ReconMethod methodA() const;
    ReconMethod methodB() const;
    void setErrorKind(QuantErrorKind kind);
    QuantErrorKind errorKind() const;
    void setComponentFilter(const QString& component);  // the bars' component, empty = all matrices
    QString componentFilter() const;
    void setRank(int rank);                         // moves the slider (emits rankChanged)
    int rank() const;
    void selectMatrix(int index);                   // index into lab().matrices
    int selectedMatrix() const;
    void setEvaluation(const QString& text);

    // KV cache / scores.
    void setKv(const AttnQuantResult& result, const QStringList& tokens, const std::vector<int64_t>& sinks);
    void setHeadMap(int layer, int head, const Matrix2D& map);
    KvPanelParams kvParams() const;
    void followLayerHead(int layer, int head);  // the shared selection; emits headMapRequested when it changes

    // Background work: a label and a fraction (< 0: indeterminate); done hides the bar.
    void setProgress(const QString& what, double fraction);
    void setDone(const QString& status);
    void clear();

    LayerCurvesPlot* barsPlot() const { return m_bars; }
    QCPBars* bars(int which) const { return which == 0 ? m_barsA : m_barsB; }
    QCustomPlot* curvesPlot() const { return m_curves; }
    QSlider* rankSlider() const { return m_rank; }
    MatrixPlot* tokenMap() const { return m_tokenMap; }
    MatrixPlot* headMap() const { return m_headMap; }

signals:
    void weightParamsChanged(const attnscope::WeightQuantParams& params);
    void evaluateRequested(const attnscope::WeightQuantParams& params, attnscope::ReconMethod method, int rank);
    void kvParamsChanged(const attnscope::widgets::KvPanelParams& params);
    void headMapRequested(int layer, int head, const attnscope::widgets::KvPanelParams& params);
    void cancelRequested();
    void rankChanged(int rank);
    void layerSelected(int layer);

private:
    QWidget* buildWeightControls();
    QWidget* buildKvControls();
    void showBars();
    void showCurves();
    void showRankLine();
    void showTokenMap();
    void onMatrixChosen();
    void requestHeadMap();

    QuantLabView m_lab;
    AttnQuantResult m_kv;
    std::vector<int64_t> m_sinks;
    QStringList m_tokens;
    int m_mapLayer = 0, m_mapHead = 0;

    QComboBox* m_scheme = nullptr;
    QSpinBox *m_bits = nullptr, *m_group = nullptr;
    QComboBox *m_error = nullptr, *m_methodA = nullptr, *m_methodB = nullptr, *m_component = nullptr;
    QComboBox* m_matrix = nullptr;
    QSlider* m_rank = nullptr;
    QLabel* m_rankLabel = nullptr;
    QPushButton* m_evaluate = nullptr;
    QLabel* m_evaluation = nullptr;

    QComboBox *m_kvMode = nullptr, *m_kvMethod = nullptr;
    QSpinBox* m_kvBits = nullptr;
    QComboBox *m_scoreBits = nullptr, *m_groups = nullptr;
    QCheckBox *m_smoothK = nullptr, *m_smoothQ = nullptr;
    QComboBox* m_tokenKind = nullptr;
    QSpinBox* m_head = nullptr;
    QLabel* m_kvSummary = nullptr;

    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
    QLabel* m_status = nullptr;

    LayerCurvesPlot* m_bars = nullptr;
    QCPBars *m_barsA = nullptr, *m_barsB = nullptr;
    QCustomPlot* m_curves = nullptr;
    QCPItemStraightLine* m_rankLine = nullptr;
    MatrixPlot *m_tokenMap = nullptr, *m_headMap = nullptr;
};

}  // namespace attnscope::widgets
