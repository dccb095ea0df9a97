#include "models/head_scores.h"

#include <array>
#include <cmath>
#include <limits>

namespace attnscope::widgets {

HeadScoreTable::HeadScoreTable(HeadScores scores) : HeadScores(std::move(scores)) {
    thumbnails.assign(size_t(nLayers) * size_t(nHeads), Matrix2D{});
}

Matrix2D headScoreMatrix(const HeadScoreTable& table, const std::string& view) {
    const size_t n = size_t(table.nLayers) * size_t(table.nHeads);
    if (view != kHeadRolesView) {
        const std::vector<float>* v = table.find(view);
        if (!v || v->size() != n) return {};
        return Matrix2D{table.nLayers, table.nHeads, *v};
    }
    if (n == 0) return {};
    const std::vector<std::string> roles = headRoles(table), names = headRoleNames(table);
    std::vector<float> out(n, 0.f);
    for (size_t i = 0; i < n; ++i) {
        bool scored = false;  // a head no detector has reached yet shows the background
        for (const std::vector<float>& v : table.values) scored = scored || (v.size() == n && !std::isnan(v[i]));
        if (!scored) out[i] = std::numeric_limits<float>::quiet_NaN();
        for (size_t r = 0; r < names.size(); ++r)
            if (roles[i] == names[r]) out[i] = float(r + 1);
    }
    return Matrix2D{table.nLayers, table.nHeads, std::move(out)};
}

QColor headRoleColor(int index) {
    // Okabe-Ito, distinguishable with colour-vision deficiencies; light grey for "no role".
    static const std::array<QColor, 9> palette = {QColor(225, 225, 225), QColor(230, 159, 0),   QColor(86, 180, 233),
                                                  QColor(0, 158, 115),   QColor(240, 228, 66),  QColor(0, 114, 178),
                                                  QColor(213, 94, 0),    QColor(204, 121, 167), QColor(90, 90, 90)};
    return palette[size_t(index) % palette.size()];
}

}  // namespace attnscope::widgets
