#include "selection_model.h"

namespace attnscope::app {

void SelectionModel::setLayerHead(int layer, int head) {
    if (layer == m_layer && head == m_head) return;
    m_layer = layer;
    m_head = head;
    emit layerHeadChanged(layer, head);
}

void SelectionModel::setToken(int token) {
    if (token == m_token) return;
    // A single token replaces a level's set unless it is one of them (stepping through it).
    if (!m_tokens.contains(token)) m_tokens = token >= 0 ? QList<qint64>{token} : QList<qint64>{};
    m_token = token;
    emit tokenChanged(token);
    emit tokensChanged(m_tokens);
}

void SelectionModel::setTokens(const QList<qint64>& tokens) {
    if (tokens == m_tokens) return;
    m_tokens = tokens;
    const int first = tokens.isEmpty() ? -1 : int(tokens.first());
    if (first != m_token) {
        m_token = first;
        emit tokenChanged(first);
    }
    emit tokensChanged(tokens);
}

}  // namespace attnscope::app
