// The A^3 lab's result as the panel shows it: one metric of one rank of every layer x
// component, the curves of one layer and component, and what a uniform rank saves. Pure
// functions of core's A3Result (attnscope/analyses/a3.h).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include <QString>

#include "attnscope/analyses/a3.h"
#include "attnscope/views.h"

namespace attnscope::widgets {

enum class A3Metric {
    HeldOut,    // the component's error on the held-out rows (QK: scores, OV/MLP: outputs)
    Objective,  // the closed form's own objective on the calibration moments
    RowKl,      // QK only: KL(softmax(S) || softmax(Ŝ)) per row, nats
    WeightErr,  // the fused weight map's relative change
};
inline constexpr std::array<A3Metric, 4> kAllA3Metrics = {A3Metric::HeldOut, A3Metric::Objective, A3Metric::RowKl,
                                                          A3Metric::WeightErr};
enum class A3MapMode {
    A3,        // A^3's value
    Baseline,  // the plain baseline's (weight SVD; MLP: magnitude pruning)
    Gain,      // baseline − A^3: positive where A^3 is better
};
inline constexpr std::array<A3Component, kA3Components> kAllA3Components = {A3Component::QK, A3Component::OV,
                                                                            A3Component::MLP};

QString a3MetricName(A3Metric m);            // combo text
QString a3MetricTitle(A3Metric m);           // axis and colour-bar title
QString a3MetricKey(A3Metric m);             // "held_out", "objective", "row_kl", "weight_err"
A3Metric a3MetricFromKey(const QString& key);  // throws Error(BadInput)
QString a3ComponentTitle(A3Component c);     // "QK (scores)", ...
bool a3MetricApplies(A3Metric m, A3Component c);  // row KL: QK only

// The point's value of a metric, A^3's or the baseline's.
double a3Value(const A3Point& p, A3Metric m, bool baseline);
// [layers, 3 components] at fraction index `f`; NaN where the metric does not apply.
Matrix2D a3LayerMap(const A3Result& r, size_t f, A3Metric m, A3MapMode mode);

// What keeping fraction index `f` of every layer's QK and OV (and MLP) saves.
struct A3Savings {
    int bytesPerElement = 2;
    int64_t kvFullK = 0, kvFullV = 0;  // bytes per token: 2·L·H_kv·d·b in full ...
    int64_t kvK = 0, kvV = 0;          // ... and L·H_kv·r·b each reduced (§G.4)
    std::array<int64_t, kA3Components> paramsSaved{};  // weights removed, summed over layers
    std::array<int, kA3Components> r{};                // the kept dimension (of layer 0)
};
A3Savings a3Savings(const A3Result& r, size_t f, int bytesPerElement = 2);

// The panel's warnings: too few calibration tokens for the dimensions they estimate.
QString a3CalibrationWarning(const A3Result& r);
QString a3Help(const char* key);  // "component", "metric", "map", "rank", "rope", "savings"

}  // namespace attnscope::widgets
