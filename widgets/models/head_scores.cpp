#include "models/head_scores.h"

#include <limits>

#include <QCoreApplication>

namespace attnscope::widgets {
namespace {

QString tr(const char* text) { return QCoreApplication::translate("HeadScores", text); }

}  // namespace

const std::vector<float>& HeadScoreTable::values(HeadScoreKind kind) const {
    switch (kind) {
    case HeadScoreKind::Entropy: return entropy;
    case HeadScoreKind::FirstToken: return firstToken;
    case HeadScoreKind::PreviousToken: return previousToken;
    case HeadScoreKind::Diagonal: break;
    }
    return diagonal;
}

std::vector<float>& HeadScoreTable::values(HeadScoreKind kind) {
    return const_cast<std::vector<float>&>(std::as_const(*this).values(kind));
}

void HeadScoreTable::resize(int layers, int heads) {
    nLayers = layers;
    nHeads = heads;
    // NaN until scored: the grid shows unscored heads as background.
    for (HeadScoreKind k : kAllHeadScores)
        values(k).assign(size_t(layers) * size_t(heads), std::numeric_limits<float>::quiet_NaN());
    thumbnails.assign(size_t(layers) * size_t(heads), Matrix2D{});
}

QString headScoreName(HeadScoreKind kind) {
    switch (kind) {
    case HeadScoreKind::Entropy: return tr("Entropy");
    case HeadScoreKind::FirstToken: return tr("Mass on first token");
    case HeadScoreKind::PreviousToken: return tr("Previous-token score");
    case HeadScoreKind::Diagonal: return tr("Diagonal score");
    }
    return {};
}

QString headScoreTitle(HeadScoreKind kind) {
    switch (kind) {
    case HeadScoreKind::Entropy: return tr("mean row entropy (nats)");
    case HeadScoreKind::FirstToken: return tr("mean attention to token 0");
    case HeadScoreKind::PreviousToken: return tr("mean A[i, i\u22121]");
    case HeadScoreKind::Diagonal: return tr("mean A[i, i]");
    }
    return {};
}

QString headScoreHelp(HeadScoreKind kind) {
    switch (kind) {
    case HeadScoreKind::Entropy:
        return tr("Mean over queries of the entropy of the attention row, in nats. Low: the head looks at few "
                  "tokens; high (up to ln T): it spreads its attention.");
    case HeadScoreKind::FirstToken:
        return tr("Causal mean attention to token 0 (its column sum divided by the rows that see it). High "
                  "values mark heads that park attention on the first token, the attention sink "
                  "(Xiao et al. 2023; Gu et al. 2024).");
    case HeadScoreKind::PreviousToken:
        return tr("Mean over queries i \u2265 1 of A[i, i\u22121], the attention paid to the token just before. "
                  "Previous-token heads feed induction heads (Olsson et al. 2022).");
    case HeadScoreKind::Diagonal:
        return tr("Mean over queries of A[i, i], the attention a token pays to itself.");
    }
    return {};
}

Matrix2D headScoreMatrix(const HeadScoreTable& table, HeadScoreKind kind) {
    const std::vector<float>& v = table.values(kind);
    if (v.size() != size_t(table.nLayers) * size_t(table.nHeads)) return {};
    return Matrix2D{table.nLayers, table.nHeads, v};
}

}  // namespace attnscope::widgets
