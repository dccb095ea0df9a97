// What the sinks panel draws, from a SinkResult (plain data, computed in core): the
// token x layer matrices, the sink-level map, class colours and the explanations shown
// on hover. Pure functions, so that tests can check them without a panel.
#pragma once
#include <array>
#include <vector>

#include <QColor>
#include <QString>
#include <QVector>

#include "attnscope/analyses/sinks.h"  // plain result structs only: no core function is called
#include "attnscope/views.h"

namespace attnscope::widgets {

enum class SinkQuantity {
    Score,       // s^l_t, causal mean attention over heads (Gu et al.)
    FracHeads,   // f^l_t, share of heads with α > ε (Gu et al.)
    AbsCos,      // |cos(h^l_t, h^l_p0)| (Wong et al.)
    HiddenNorm,  // ||h^l_t|| (Sun et al.)
};
inline constexpr std::array<SinkQuantity, 4> kAllSinkQuantities = {
    SinkQuantity::Score, SinkQuantity::FracHeads, SinkQuantity::AbsCos, SinkQuantity::HiddenNorm};

QString sinkQuantityName(SinkQuantity q);   // combo text
QString sinkQuantityTitle(SinkQuantity q);  // colour-bar title
QString sinkQuantityHelp(SinkQuantity q);   // what it is and which paper defines it (rich text)

// Rows are layers, columns token positions: M[l, t] of the quantity. NaN where the result
// has no such data (hidden states dropped).
Matrix2D sinkQuantityMatrix(const SinkResult& result, SinkQuantity q);

// The sink-level map: rows are lifetimes 1..L (row r = lifetime r + 1), columns creation
// layers 0..L-1, value log(1 + count); NaN where no sink has that level.
Matrix2D sinkLevelMatrix(const SinkResult& result);
// The level at a cell of that map, or nullptr.
const SinkLevel* sinkLevelAt(const SinkResult& result, int row, int col);

// Positions of the sinks of one class, ascending.
std::vector<int64_t> sinkPositions(const SinkResult& result, SinkClass cls);
const SinkToken* findSink(const SinkResult& result, int64_t token);

// The marks of one class on the token map: (token, layer) for every layer it is a sink in.
void sinkMarkPoints(const SinkResult& result, SinkClass cls, QVector<double>& tokens, QVector<double>& layers);

// Per-layer curves: the primary's strength and weakening, secondary creations.
struct SinkLayerCurves {
    QVector<double> layers, strength, weakening, created;
};
SinkLayerCurves sinkLayerCurves(const SinkResult& result);

// One token across layers: signed cos to the primary, ||h||, and its sink layers (on the cos curve);
// cos(y, y at p0) of its MLP output (empty without MLP outputs), and for a sink its creation
// layer with ||y|| and cos(y, y at p0) there (creationLayer -1 otherwise).
struct SinkTokenCurves {
    QVector<double> layers, cos, norm, sinkLayers, sinkCos, mlpCos;
    int creationLayer = -1;
    double mlpNormAtCreation = 0, mlpCosAtCreation = 0;
};
SinkTokenCurves sinkTokenCurves(const SinkResult& result, int64_t token);

QColor sinkClassColor(SinkClass cls);
QString sinkClassLabel(SinkClass cls);  // "primary", ... (translated)

// One line about the run's sinks: p0, analysed layers, rule, counts.
QString sinkSummary(const SinkResult& result, const QString& primaryText);
// Everything known about one token (class, layers, lifetime, MLP at creation), as rich text.
QString sinkTokenDescription(const SinkResult& result, int64_t token, const QString& tokenText);

// Hover text of a token-map cell and of a sink-level cell.
QString sinkCellText(const SinkResult& result, SinkQuantity q, int layer, int64_t token, float value,
                     const QString& tokenText);
QString sinkLevelText(const SinkResult& result, int row, int col);
// "r = 0.81, y = 0.12 + 0.03·x (n = 5)", or why there is no r ("r undefined: fewer than 2 sinks").
QString sinkFitText(const LinearFit& fit);
// The class marks' legend, as rich text in the marks' colours and shapes.
QString sinkMarksLegend();

// Tooltips of the controls and plots, each citing its source.
QString sinkParameterHelp(const char* which);  // "epsilon", "cos", "minq", "rule", "clipper", "levels", "layers", "token"

}  // namespace attnscope::widgets
