// Per-head scores of one run for the head overview grid: core's head-role table (one exact
// definition, attnscope/analyses/head_scores.h) plus the grid's thumbnails.
#pragma once
#include <cstdint>
#include <vector>

#include <QColor>
#include <QString>

#include "attnscope/analyses/head_scores.h"
#include "attnscope/views.h"

namespace attnscope::widgets {

inline constexpr char kHeadRolesView[] = "roles";  // the view labelling each head with its role

struct HeadScoreTable : HeadScores {
    // Small block-max maps of each head's attention (the grid's thumbnails), [layer * nHeads + head];
    // empty matrices until computed (and in sessions, which do not store them).
    std::vector<Matrix2D> thumbnails;

    HeadScoreTable() = default;
    explicit HeadScoreTable(HeadScores scores);
};

// The detector's [layer, head] matrix (empty when not computed); for kHeadRolesView, each head's
// role as its index in headRoleNames() + 1 (0 = no role, NaN = not scored).
Matrix2D headScoreMatrix(const HeadScoreTable& table, const std::string& view);
// The colour of role number `index` (0 = no role) in the roles view and its legend.
QColor headRoleColor(int index);

}  // namespace attnscope::widgets
