// The one selection every view follows: layer, head (-1 = mean of heads), the current
// token and, after a sink level is clicked, a set of tokens. Setters emit only on change,
// so views can both follow it and write to it without loops.
#pragma once
#include <QList>
#include <QObject>

namespace attnscope::app {

class SelectionModel : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    int layer() const { return m_layer; }
    int head() const { return m_head; }
    int token() const { return m_token; }
    const QList<qint64>& tokens() const { return m_tokens; }

    void setLayerHead(int layer, int head);
    void setLayer(int layer) { setLayerHead(layer, m_head); }
    void setToken(int token);                    // -1: none
    void setTokens(const QList<qint64>& tokens);  // the current token becomes the first
    void clearTokens() { setTokens({}); }

signals:
    void layerHeadChanged(int layer, int head);
    void tokenChanged(int token);                     // before tokensChanged
    void tokensChanged(const QList<qint64>& tokens);

private:
    int m_layer = 0;
    int m_head = -1;
    int m_token = -1;
    QList<qint64> m_tokens;
};

}  // namespace attnscope::app
