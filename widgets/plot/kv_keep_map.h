// A keep map of the KV-cache eviction panel: a MatrixPlot of map rows (layers, and one
// layer's heads) x tokens, kept/evicted colours (or A − B in a diverging gradient), dashed
// frames around the regions every head keeps (start tokens, recent/observation window) and
// ▼ marks over the attention sinks from the sinks analysis.
#pragma once
#include <cstdint>
#include <vector>

#include "plot/matrix_plot.h"

namespace attnscope::widgets {

class KvKeepMap : public MatrixPlot {
    Q_OBJECT
public:
    enum class Kind { Keep, Difference };
    explicit KvKeepMap(Kind kind, QWidget* parent = nullptr);

    // Frames [0, prefix) and [end − suffix, end) over every row; 0 hides a frame.
    void setRegions(int64_t prefix, int64_t suffix, int64_t end);
    void setSinks(const std::vector<int64_t>& positions);
    const std::vector<int64_t>& sinkPositions() const { return m_sinkPositions; }
    int64_t regionPrefix() const { return m_prefix; }
    int64_t regionSuffix() const { return m_suffix; }

    static QColor keptColor();
    static QColor evictedColor();

private:
    QCPItemRect* addFrame(const QColor& color);
    QCPItemText* addFrameLabel(const QColor& color);
    void placeFrame(QCPItemRect* frame, QCPItemText* label, double from, double to, const QString& text);

    QCPItemRect *m_prefixFrame = nullptr, *m_suffixFrame = nullptr;
    QCPItemText *m_prefixLabel = nullptr, *m_suffixLabel = nullptr;
    std::vector<QCPItemText*> m_sinkMarks;  // ▼ over each sink's column
    std::vector<int64_t> m_sinkPositions;
    int64_t m_prefix = 0, m_suffix = 0;
};

}  // namespace attnscope::widgets
