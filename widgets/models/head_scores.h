// Per-head scores of one run for the head overview grid: plain data filled by the app
// from the trace's exact statistics and diagonal tiles.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include <QString>

#include "attnscope/analyses/head_scores.h"
#include "attnscope/views.h"

namespace attnscope::widgets {

enum class HeadScoreKind {
    Entropy,        // mean row entropy (nats): low = focused head
    FirstToken,     // mean attention to token 0 (causal mean α_0): sink heads
    PreviousToken,  // mean of A[i, i-1]: previous-token heads
    Diagonal,       // mean of A[i, i]: self-attending heads
};
inline constexpr std::array<HeadScoreKind, 4> kAllHeadScores = {HeadScoreKind::Entropy, HeadScoreKind::FirstToken,
                                                                HeadScoreKind::PreviousToken, HeadScoreKind::Diagonal};

// Core's HeadScores (one exact definition, attnscope/analyses/head_scores.h) plus the grid's
// thumbnails.
struct HeadScoreTable : HeadScores {
    // Small block-max maps of each head's attention (the grid's thumbnails), same order;
    // empty matrices until computed (and in sessions, which do not store them).
    std::vector<Matrix2D> thumbnails;

    const std::vector<float>& values(HeadScoreKind kind) const;
    std::vector<float>& values(HeadScoreKind kind);
    void resize(int layers, int heads);
};

QString headScoreName(HeadScoreKind kind);   // combo text
QString headScoreTitle(HeadScoreKind kind);  // colour-bar title
QString headScoreHelp(HeadScoreKind kind);
Matrix2D headScoreMatrix(const HeadScoreTable& table, HeadScoreKind kind);  // [layer, head]

}  // namespace attnscope::widgets
