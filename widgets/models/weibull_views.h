// What the Weibull panel draws from a model's fits (plain WeibullMatrixFit structs from
// core): the layer x component grid, k and λ per cell, the side table and the hover text.
#pragma once
#include <utility>
#include <vector>

#include <QString>
#include <QStringList>

#include "attnscope/analyses/weibull.h"  // plain result structs only: no core function is called
#include "attnscope/analyses/weibull_series.h"
#include "attnscope/views.h"

namespace attnscope::widgets {

// Rows are layers 0..L-1, plus one last row for matrices outside the blocks (embed,
// lm_head) when there are any; columns the components present, in a fixed order.
struct WeibullGrid {
    QStringList rowLabels;
    QStringList columns;          // q k v qkv o gate up down embed lm_head (those present)
    std::vector<int> fitIndex;    // [rows * cols] index into the fits, -1 for none
    int nLayers = 0;
    int rows() const { return int(rowLabels.size()); }
    int cols() const { return int(columns.size()); }
    int at(int row, int col) const { return fitIndex[size_t(row * cols() + col)]; }
};

WeibullGrid weibullGrid(const std::vector<WeibullMatrixFit>& fits);
// k (or λ) per grid cell; NaN where there is no fit or it failed.
Matrix2D weibullGridValues(const WeibullGrid& grid, const std::vector<WeibullMatrixFit>& fits, bool lambda);
// k against layer for one component: (layer, k) of its successful fits.
std::vector<std::pair<int, double>> weibullComponentCurve(const std::vector<WeibullMatrixFit>& fits,
                                                          const QString& component);

// Over a checkpoint series: the components present (grid order), and the mean k (or λ)
// of one component's successful fits at each checkpoint as (step, mean).
QStringList weibullSeriesComponents(const std::vector<WeibullSeriesPoint>& series);
std::vector<std::pair<double, double>> weibullSeriesMeans(const std::vector<WeibullSeriesPoint>& series,
                                                          const QString& component, bool lambda);

// (quantity, value) rows of the side table for one fit.
std::vector<std::pair<QString, QString>> weibullFitRows(const WeibullMatrixFit& fit);
QString weibullCellText(const WeibullMatrixFit& fit);  // tooltip of a map cell
QString weibullHelp(const char* which);  // "k", "lambda", "lines", "protocol", "trim", "detail", "series"

}  // namespace attnscope::widgets
