#include "plot/kv_keep_map.h"

#include "plot/colormaps.h"

namespace attnscope::widgets {
namespace {

const QColor kPrefixColor(0xd6, 0x27, 0x28);  // start tokens: red, like the sink marks
const QColor kSuffixColor(0xff, 0x7f, 0x0e);  // recent window: orange

}  // namespace

QColor KvKeepMap::keptColor() { return QColor(0x1f, 0x4e, 0x9a); }
QColor KvKeepMap::evictedColor() { return QColor(0xee, 0xe4, 0xdc); }

KvKeepMap::KvKeepMap(Kind kind, QWidget* parent) : MatrixPlot(parent) {
    // MatrixPlot installs the plot menu (export, CSV of the cells).
    if (kind == Kind::Keep) {
        QCPColorGradient g;
        g.setColorStopAt(0, evictedColor());
        g.setColorStopAt(1, keptColor());
        g.setLevelCount(9);  // share of 8 query heads in steps of 1/8
        g.setNanHandling(QCPColorGradient::nhTransparent);
        setGradient(g);
        setValueRange(QCPRange(0, 1));
        setValueTitle(tr("kept (share of query heads)"));
    } else {
        QCPColorGradient g = makeDivergingGradient();
        g.setNanHandling(QCPColorGradient::nhTransparent);
        setGradient(g);
        setValueRange(QCPRange(-1, 1));
        setValueTitle(tr("kept by A \u2212 kept by B"));
    }
    setAxisTitles(tr("key token (position)"), tr("layer / query head"));
    setNumbersWhenDense(false, true);
    setZoomable(Qt::Horizontal);
    setKeyboardNavigation(true);
    m_prefixFrame = addFrame(kPrefixColor);
    m_suffixFrame = addFrame(kSuffixColor);
    m_prefixLabel = addFrameLabel(kPrefixColor);
    m_suffixLabel = addFrameLabel(kSuffixColor);
    axisRect()->setMinimumMargins(QMargins(0, 16, 0, 0));  // room for the sink triangles and labels
}

QCPItemRect* KvKeepMap::addFrame(const QColor& color) {
    auto* frame = new QCPItemRect(this);
    frame->setPen(QPen(color, 2, Qt::DashLine));
    frame->setBrush(Qt::NoBrush);
    frame->setSelectable(false);
    frame->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
    frame->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
    frame->setVisible(false);
    return frame;
}

QCPItemText* KvKeepMap::addFrameLabel(const QColor& color) {
    auto* label = new QCPItemText(this);
    label->setColor(color.darker(130));
    label->setClipToAxisRect(false);
    label->setSelectable(false);
    label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    label->setPositionAlignment(Qt::AlignBottom | Qt::AlignHCenter);
    label->setVisible(false);
    return label;
}

void KvKeepMap::placeFrame(QCPItemRect* frame, QCPItemText* label, double from, double to, const QString& text) {
    const bool show = to > from;
    frame->setVisible(show);
    label->setVisible(show);
    if (!show) return;
    frame->topLeft->setCoords(from - 0.5, 0);
    frame->bottomRight->setCoords(to - 0.5, 1);
    label->position->setCoords((from + to) / 2 - 0.5, 0);
    label->setText(text);
}

void KvKeepMap::setRegions(int64_t prefix, int64_t suffix, int64_t end) {
    m_prefix = prefix;
    m_suffix = suffix;
    placeFrame(m_prefixFrame, m_prefixLabel, 0, double(prefix), tr("first %1").arg(prefix));
    placeFrame(m_suffixFrame, m_suffixLabel, double(end - suffix), double(end), tr("last %1").arg(suffix));
    replot(rpQueuedReplot);
}

void KvKeepMap::setSinks(const std::vector<int64_t>& positions) {
    for (QCPItemText* mark : m_sinkMarks) removeItem(mark);
    m_sinkMarks.clear();
    m_sinkPositions = positions;
    for (int64_t p : positions) {
        // Items, not a graph: plottables are clipped to the axis rect, the marks sit above it.
        auto* mark = new QCPItemText(this);
        mark->setText(QStringLiteral("\u25bc"));
        mark->setColor(kPrefixColor);
        mark->setClipToAxisRect(false);
        mark->setSelectable(false);
        mark->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        mark->position->setCoords(double(p), 0);
        mark->setPositionAlignment(Qt::AlignBottom | Qt::AlignHCenter);
        m_sinkMarks.push_back(mark);
    }
    replot(rpQueuedReplot);
}

}  // namespace attnscope::widgets
