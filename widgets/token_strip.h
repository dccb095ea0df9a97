// The prompt's tokens as chips in a wrapping flow, painted in one widget (thousands of
// tokens stay cheap). Whitespace is made visible; chips can be coloured by a value.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <QString>
#include <QWidget>

#include "attnscope/views.h"

namespace attnscope::widgets {

// How a vocabulary spells whitespace: SentencePiece uses U+2581 (or, in llama2.c's
// tokenizer.bin, a plain space); byte-level BPE (GPT-2) maps bytes to letters such as
// U+0120 for space and U+010A for newline.
enum class PieceStyle { Plain, ByteLevel };

PieceStyle detectPieceStyle(const std::vector<std::string>& pieces);
// space -> ·, newline -> ↵, tab -> →, CR -> ␍; byte tokens such as <0x0A> stay as they are.
QString displayPiece(const std::string& piece, PieceStyle style);

class TokenStrip : public QWidget {
    Q_OBJECT
public:
    explicit TokenStrip(QWidget* parent = nullptr);

    void setTokens(const attnscope::TokenStrip& tokens);
    void clear();
    int count() const { return int(m_ids.size()); }
    QString displayText(int index) const;
    QStringList displayTexts() const { return m_texts; }

    // One value per token (e.g. the attention a query pays to each key); empty clears.
    void setHighlights(const std::vector<float>& values);
    const std::vector<float>& highlights() const { return m_values; }

    int selectedIndex() const { return m_selected; }
    void setSelectedIndex(int index);  // -1: none; emits nothing
    QRect chipRect(int index) const;
    int indexAt(const QPoint& pos) const;

    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    void tokenClicked(int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool event(QEvent* event) override;

private:
    // Chip rectangles for a given width; returns the total height.
    int layoutChips(int width, std::vector<QRect>* rects) const;
    void relayout();
    void select(int index);

    std::vector<int32_t> m_ids;
    QStringList m_texts;
    std::vector<QRect> m_rects;
    std::vector<float> m_values;
    float m_maxValue = 0.f;
    int m_selected = -1;
};

}  // namespace attnscope::widgets
