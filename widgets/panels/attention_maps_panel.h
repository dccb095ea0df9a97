// The attention map of one layer and head over the prompt, with the prompt's tokens
// under it. Pure view: it shows what it is given and asks for other layers/heads by signal.
#pragma once
#include <vector>

#include <QWidget>

#include "metatypes.h"
#include "plot/attention_heatmap.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;

namespace attnscope::widgets {

class TokenStrip;

// What a selected token stands for in the strip's colours: the attention it pays to
// every key (a row), or the attention every query pays to it (a column).
enum class TokenRole { Query, Key };

class AttentionMapsPanel : public QWidget {
    Q_OBJECT
public:
    explicit AttentionMapsPanel(QWidget* parent = nullptr);

    void setModelShape(int nLayers, int nHeads);
    void setTokens(const attnscope::TokenStrip& tokens);
    // A matrix of (layer, head) covering `extent`; pooled when smaller than the extent.
    void setAttention(const Matrix2D& matrix, const HeatmapExtent& extent, int layer, int head);
    // The attention that query `query` pays to every key, shown on the token chips.
    void setRowHighlight(int query, const std::vector<float>& row) {
        setTokenHighlight(query, TokenRole::Query, row);
    }
    // A row (role Query) or column (role Key) of the map for the selected token; ignored
    // when the selection or role has moved on.
    void setTokenHighlight(int token, TokenRole role, const std::vector<float>& values);
    TokenRole tokenRole() const;
    void setTokenRole(TokenRole role);
    // How pooled overviews aggregate a block: 0 = max, 1 = mean (attnscope::Pool's order).
    int poolIndex() const;
    void setPoolIndex(int index);
    void clear();

    int layer() const;
    int head() const;  // -1: mean over heads
    void setLayer(int layer);
    void setHead(int head);
    // Both at once, with one viewRequested when either changed (the shared selection).
    void setLayerHead(int layer, int head);
    // Above this many tokens the auto colour scale is log, else linear.
    static constexpr int kAutoLogTokens = 128;
    void setColorScale(ColorScale scale);  // an explicit choice: kept for every prompt
    void setAutoColorScale();              // the default
    bool isAutoColorScale() const;
    void setColormap(Colormap map);
    void stepLayer(int delta);
    void stepHead(int delta);
    int selectedToken() const;
    // Selects a query token without asking for anything: the next view carries its row.
    void selectToken(int index);

    AttentionHeatmap* heatmap() const { return m_heatmap; }
    TokenStrip* tokenStrip() const { return m_strip; }
    QString describeCell(const HeatmapCell& cell) const;

signals:
    void viewRequested(int layer, int head);
    void tokenSelected(int index);
    void tokenRoleChanged(attnscope::widgets::TokenRole role);
    void hoverTextChanged(const QString& text);  // empty when the cursor leaves the map

private:
    QString tokenText(int64_t position) const;
    void emitViewRequest();
    void applyColorScale();
    void outlineSelection();

    QSpinBox *m_layer = nullptr, *m_head = nullptr;
    QComboBox *m_scale = nullptr, *m_colormap = nullptr, *m_pool = nullptr, *m_role = nullptr;
    QCheckBox* m_mask = nullptr;
    QLabel* m_viewInfo = nullptr;
    AttentionHeatmap* m_heatmap = nullptr;
    TokenStrip* m_strip = nullptr;
    QLabel* m_stripHint = nullptr;
};

}  // namespace attnscope::widgets
