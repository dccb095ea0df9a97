// What the quantization lab panel draws (issue 8), as plain tables copied out of core's
// results once per computation: every method's error at every rank for every matrix, so a
// rank change redraws from these tables alone; and the KV-cache / score quantization errors
// per layer, head and token.
#pragma once
#include <string>
#include <vector>

#include <QString>
#include <QStringList>

#include "attnscope/analyses/quant.h"  // plain result structs only: no core function is called
#include "attnscope/views.h"

namespace attnscope::widgets {

enum class QuantErrorKind { Weight, Output };  // ‖W − Ŵ‖/‖W‖, or √(tr(E R Eᵀ)/tr(W R Wᵀ))

// The weight side: one entry per quantizable matrix, in core's quantMatrices() order.
// Core's QuantLab with what the views ask of it.
struct QuantLabView : QuantLab {
    QuantLabView() = default;
    QuantLabView(QuantLab lab) : QuantLab(std::move(lab)) {}  // NOLINT: implicit on purpose
    int nLayers() const;
    int maxRank(size_t matrix) const;  // the longest curve of that matrix
    int maxRank() const;               // over all matrices (the slider's range)
};

// The methods the panel offers: RTN alone, then the four reconstructions.
inline constexpr ReconMethod kPanelMethods[] = {ReconMethod::None, ReconMethod::Lorc, ReconMethod::Lqer,
                                                ReconMethod::QeraApprox, ReconMethod::QeraExact};
QString reconMethodLabel(ReconMethod m);  // "RTN only", "LoRC", "LQER", "QERA-approx", "QERA-exact"

// One matrix's error of `method` at `rank` (clamped to the curve; None ignores the rank).
double quantError(const QuantLabView& lab, size_t matrix, ReconMethod method, int rank, QuantErrorKind kind);
// Per layer, the mean over that layer's matrices of `component` (empty: all components).
std::vector<double> quantLayerErrors(const QuantLabView& lab, ReconMethod method, int rank, QuantErrorKind kind,
                                     const QString& component);
// Error against rank 0..maxRank for one matrix and method (None: flat at Q(W)'s error).
std::vector<double> quantRankCurve(const QuantLabView& lab, size_t matrix, ReconMethod method, QuantErrorKind kind);
QStringList quantComponents(const QuantLabView& lab);  // in q k v o gate up down order, those present
int findQuantMatrix(const QuantLabView& lab, int layer, const QString& component);  // -1 when none
QString quantMatrixLabel(const QuantMatrix& m);  // "L3 q  256×256"

// The KV side's controls: the cache quantizers, or SageAttention2's Q/K score quantization.
struct KvPanelParams {
    bool scores = false;
    KvQuantParams kv;
    ScoreQuantParams score;
};

enum class TokenErrorKind { QueryOutput, KeyShare, KeyRelErr, ValueRelErr };
QString tokenErrorLabel(TokenErrorKind kind);  // axis / colour bar title
// [layers, T] of the per-token error; NaN for a layer without it.
Matrix2D tokenErrorMap(const AttnQuantResult& r, TokenErrorKind kind);
// Mean over heads and layers of each head metric, effective bits: the KV summary line.
QString kvSummaryText(const AttnQuantResult& r);

// Hover help for each control and plot, citing the papers (reference §2–§5).
QString quantHelp(const char* which);

}  // namespace attnscope::widgets
