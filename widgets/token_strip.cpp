#include "token_strip.h"

#include <algorithm>

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPaintEvent>
#include <QToolTip>

namespace attnscope::widgets {
namespace {

constexpr int kMargin = 4;
constexpr int kSpacing = 4;
constexpr int kPadX = 5;
constexpr int kPadY = 2;

bool isByteToken(const QString& s) {
    return s.size() == 6 && s.startsWith(QLatin1String("<0x")) && s.endsWith(QLatin1Char('>'));
}

// <s>, </s>, <|endoftext|>; llama2.c spells BOS as "\n<s>\n", shown as ↵<s>↵.
bool isSpecialLooking(QString s) {
    while (s.startsWith(QChar(0x21B5)) || s.startsWith(QChar(0x00B7))) s.remove(0, 1);
    while (s.endsWith(QChar(0x21B5)) || s.endsWith(QChar(0x00B7))) s.chop(1);
    return s.size() > 2 && s.startsWith(QLatin1Char('<')) && s.endsWith(QLatin1Char('>')) &&
           !isByteToken(s);
}

QColor mix(const QColor& a, const QColor& b, double t) {
    return QColor::fromRgbF(float(a.redF() + (b.redF() - a.redF()) * t),
                            float(a.greenF() + (b.greenF() - a.greenF()) * t),
                            float(a.blueF() + (b.blueF() - a.blueF()) * t));
}

}  // namespace

PieceStyle detectPieceStyle(const std::vector<std::string>& pieces) {
    bool byteLevelMarks = false;
    for (const std::string& p : pieces) {
        const QString s = QString::fromStdString(p);
        if (s.contains(QChar(0x2581))) return PieceStyle::Plain;
        if (s.contains(QChar(0x0120)) || s.contains(QChar(0x010A))) byteLevelMarks = true;
    }
    return byteLevelMarks ? PieceStyle::ByteLevel : PieceStyle::Plain;
}

QString displayPiece(const std::string& piece, PieceStyle style) {
    const QString s = QString::fromStdString(piece);
    if (s.isEmpty()) return QStringLiteral("\u2205");
    if (isByteToken(s)) return s;
    QString out;
    out.reserve(s.size());
    for (QChar ch : s) {
        const char16_t u = ch.unicode();
        const bool bl = style == PieceStyle::ByteLevel;
        if (u == u' ' || u == 0x2581 || (bl && u == 0x0120)) out += QChar(0x00B7);
        else if (u == u'\n' || (bl && u == 0x010A)) out += QChar(0x21B5);
        else if (u == u'\t' || (bl && u == 0x0109)) out += QChar(0x2192);
        else if (u == u'\r' || (bl && u == 0x010D)) out += QChar(0x240D);
        else if (u < 0x20) out += QStringLiteral("<0x%1>").arg(int(u), 2, 16, QLatin1Char('0')).toUpper();
        else out += ch;
    }
    return out;
}

TokenStrip::TokenStrip(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::StrongFocus);
    QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
}

void TokenStrip::setTokens(const attnscope::TokenStrip& tokens) {
    m_ids = tokens.ids;
    m_texts.clear();
    const PieceStyle style = detectPieceStyle(tokens.pieces);
    for (size_t i = 0; i < m_ids.size(); ++i)
        m_texts << (i < tokens.pieces.size() ? displayPiece(tokens.pieces[i], style)
                                             : QStringLiteral("#%1").arg(m_ids[i]));
    m_values.clear();
    m_maxValue = 0.f;
    m_selected = -1;
    relayout();
}

void TokenStrip::clear() { setTokens({}); }

QString TokenStrip::displayText(int index) const {
    return index >= 0 && index < m_texts.size() ? m_texts[index] : QString();
}

void TokenStrip::setHighlights(const std::vector<float>& values) {
    m_values = values;
    m_maxValue = 0.f;
    for (float v : m_values)
        if (v > m_maxValue) m_maxValue = v;
    update();
}

void TokenStrip::setSelectedIndex(int index) {
    m_selected = index >= 0 && index < count() ? index : -1;
    update();
}

void TokenStrip::select(int index) {
    if (index < 0 || index >= count()) return;
    setSelectedIndex(index);
    emit tokenClicked(index);
}

QRect TokenStrip::chipRect(int index) const {
    return index >= 0 && size_t(index) < m_rects.size() ? m_rects[size_t(index)] : QRect();
}

int TokenStrip::indexAt(const QPoint& pos) const {
    for (size_t i = 0; i < m_rects.size(); ++i)
        if (m_rects[i].contains(pos)) return int(i);
    return -1;
}

int TokenStrip::layoutChips(int width, std::vector<QRect>* rects) const {
    const QFontMetrics fm(font());
    const int h = fm.height() + 2 * kPadY;
    int x = kMargin, y = kMargin;
    if (rects) rects->resize(m_texts.size());
    for (int i = 0; i < m_texts.size(); ++i) {
        const int w = fm.horizontalAdvance(m_texts[i]) + 2 * kPadX;
        if (x > kMargin && x + w > width - kMargin) {
            x = kMargin;
            y += h + kSpacing;
        }
        if (rects) (*rects)[size_t(i)] = QRect(x, y, w, h);
        x += w + kSpacing;
    }
    return m_texts.isEmpty() ? 2 * kMargin + h : y + h + kMargin;
}

void TokenStrip::relayout() {
    layoutChips(width(), &m_rects);
    updateGeometry();
    update();
}

int TokenStrip::heightForWidth(int width) const { return layoutChips(width, nullptr); }

QSize TokenStrip::sizeHint() const { return QSize(480, heightForWidth(480)); }

QSize TokenStrip::minimumSizeHint() const {
    return QSize(100, QFontMetrics(font()).height() + 2 * (kPadY + kMargin));
}

void TokenStrip::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    layoutChips(width(), &m_rects);
}

void TokenStrip::paintEvent(QPaintEvent* event) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const QColor chip = pal.color(QPalette::Button);
    const QColor accent = pal.color(QPalette::Highlight);
    const QColor border = pal.color(QPalette::Mid);
    QFont specialFont = font();
    specialFont.setItalic(true);
    if (m_texts.isEmpty()) {
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(rect().adjusted(kMargin, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft,
                   tr("Tokens appear here after a run."));
        return;
    }
    for (int i = 0; i < m_texts.size(); ++i) {
        const QRect r = m_rects[size_t(i)];
        if (!r.intersects(event->rect())) continue;
        const double t = m_maxValue > 0.f && size_t(i) < m_values.size()
                             ? std::clamp(double(m_values[size_t(i)] / m_maxValue), 0.0, 1.0)
                             : 0.0;
        const QColor bg = mix(chip, accent, t);
        const bool selected = i == m_selected;
        p.setPen(QPen(selected ? pal.color(QPalette::WindowText) : border, selected ? 2.0 : 1.0));
        p.setBrush(bg);
        p.drawRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3);
        const bool special = isSpecialLooking(m_texts[i]);
        p.setFont(special ? specialFont : font());
        QColor fg = bg.lightnessF() < 0.5 ? QColor(Qt::white) : QColor(Qt::black);
        if (special) fg.setAlphaF(0.65f);
        p.setPen(fg);
        p.drawText(r, Qt::AlignCenter, m_texts[i]);
    }
}

void TokenStrip::mousePressEvent(QMouseEvent* event) {
    const int index = indexAt(event->position().toPoint());
    if (index >= 0) select(index);
    QWidget::mousePressEvent(event);
}

void TokenStrip::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Left && m_selected > 0) select(m_selected - 1);
    else if (event->key() == Qt::Key_Right && m_selected + 1 < count()) select(m_selected + 1);
    else QWidget::keyPressEvent(event);
}

bool TokenStrip::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int i = indexAt(help->pos());
        if (i < 0) {
            QToolTip::hideText();
            event->ignore();
            return true;
        }
        QString tip = tr("position %1 · id %2\n%3").arg(i).arg(m_ids[size_t(i)]).arg(m_texts[i]);
        if (size_t(i) < m_values.size()) tip += tr("\nvalue %1").arg(double(m_values[size_t(i)]), 0, 'g', 4);
        QToolTip::showText(help->globalPos(), tip, this);
        return true;
    }
    return QWidget::event(event);
}

}  // namespace attnscope::widgets
