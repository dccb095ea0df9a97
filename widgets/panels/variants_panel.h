// The attention-variants lab (issue 19): one layer's heads replayed through linear, sparse,
// normalisation and binary variants of softmax. The picker (grouped by family, each variant's
// explanation and source on hover) and its parameters edit live: the selected head's maps
// (softmax | variant | difference), entropy per query for both, the metrics of every head of
// the layer for the chosen variant, and a "compare all" table (one row per variant). End to end
// (re-running the model with the variant in place) adds KL per position and perplexity.
#pragma once
#include <QWidget>

#include "attnscope/analyses/variants.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QGridLayout;
class QLabel;
class QSpinBox;
class QTableWidget;
class QTabWidget;
class QTimer;

namespace attnscope::widgets {

class VariantPairPlot;

class VariantsPanel : public QWidget {
    Q_OBJECT
public:
    explicit VariantsPanel(QWidget* parent = nullptr);

    // The variants the picker offers (the core's registry; the dock sets it). Without it the
    // picker lists the variants of the result.
    void setCatalog(const std::vector<VariantInfo>& infos);
    void setResult(const VariantsResult& result);
    const VariantsResult& result() const { return m_result; }
    bool hasResult() const { return !m_result.variants.empty(); }
    void setTokenLabels(const QStringList& labels);
    // The model's layers and heads (the layer and head pickers' ranges).
    void setShape(int nLayers, int nHeads);
    // One head's maps beside softmax (the dock's job answers pairRequested).
    void setPair(const VariantHeadPair& pair);
    void setStatus(const QString& text);
    // The tile pairRequested asks for: the pair view's queries x keys after a zoom or pan on a
    // long prompt; the default (the whole map, pooled when long) after a new prompt.
    const VariantTile& requestedTile() const { return m_tile; }

    // View state (sessions, figures, tests).
    void selectVariant(const QString& name);
    QString selectedVariant() const;
    void setHead(int head);
    // Follow the explorer's selection: another layer recomputes the section, the head's maps
    // are asked for again (head -1, the mean of heads, keeps the current head).
    void setLayerHead(int layer, int head);
    int head() const;
    void showTab(int index);

    VariantPairPlot* pairPlot() const { return m_pair; }
    QCustomPlot* klPlot() const { return m_kl; }
    QCustomPlot* comparePlot() const { return m_compareBars; }
    QTableWidget* headTable() const { return m_heads; }
    QTableWidget* compareTable() const { return m_compare; }

    // The comparison bars of one metric (output_rel_err, row_kl_mean, entropy_gap, e2e_kl).
    void setCompareMetric(const QString& key);

signals:
    // The section's options for a new computation ("--layer", L, "--variant-substitute", "1", ...).
    void optionsChanged(const QStringList& options);
    // One head's maps for the chosen variant and parameters ("key=value" each).
    void pairRequested(int layer, int head, const QString& variant, const QStringList& params);

private:
    void fillPicker();
    void buildParams();
    void emitOptions();
    void requestPair();
    void showHeads();
    void showCompare();
    void showKl();
    void showSummary();
    const VariantInfo* infoOf(const QString& name) const;
    QStringList paramAssignments() const;
    const VariantRun* runOf(const QString& name) const;

    std::vector<VariantInfo> m_catalog;
    VariantsResult m_result;
    QStringList m_tokens;
    VariantTile m_tile;
    QString m_compareKey = QStringLiteral("output_rel_err");
    bool m_quiet = false;
    QTimer* m_optionsTimer = nullptr;

    QComboBox* m_picker = nullptr;
    QSpinBox *m_layer = nullptr, *m_head = nullptr;
    QCheckBox *m_substitute = nullptr, *m_allLayers = nullptr, *m_log = nullptr;
    QWidget* m_paramBox = nullptr;
    QGridLayout* m_paramRow = nullptr;
    QLabel *m_summary = nullptr, *m_status = nullptr;
    QTabWidget* m_tabs = nullptr;
    VariantPairPlot* m_pair = nullptr;
    QCustomPlot *m_kl = nullptr, *m_compareBars = nullptr;
    QTableWidget *m_heads = nullptr, *m_compare = nullptr;
    QComboBox* m_compareMetric = nullptr;
};

}  // namespace attnscope::widgets
