#include "models/a3_views.h"

#include <cmath>
#include <limits>

#include <QCoreApplication>

#include "attnscope/error.h"
#include "models/help_text.h"

namespace attnscope::widgets {
namespace {

QString tr(const char* text) { return QCoreApplication::translate("A3Views", text); }

const char* const kA3 =
    "Wong, Zhang et al., \u201cA^3: an Analytical Low-Rank Approximation Framework for Attention\u201d (arXiv 2505.12942)";

struct MetricText {
    A3Metric metric;
    const char* key;
    const char* name;
    const char* title;
};
const MetricText kMetrics[] = {
    {A3Metric::HeldOut, "held_out", QT_TRANSLATE_NOOP("A3Views", "Held-out error"),
     QT_TRANSLATE_NOOP("A3Views", "relative error on held-out tokens")},
    {A3Metric::Objective, "objective", QT_TRANSLATE_NOOP("A3Views", "Calibration objective"),
     QT_TRANSLATE_NOOP("A3Views", "relative objective (calibration)")},
    {A3Metric::RowKl, "row_kl", QT_TRANSLATE_NOOP("A3Views", "Row KL (QK)"),
     QT_TRANSLATE_NOOP("A3Views", "row KL of the softmax (nats)")},
    {A3Metric::WeightErr, "weight_err", QT_TRANSLATE_NOOP("A3Views", "Weight-space error"),
     QT_TRANSLATE_NOOP("A3Views", "relative change of the fused weights")},
};

const MetricText& textOf(A3Metric m) {
    for (const MetricText& t : kMetrics)
        if (t.metric == m) return t;
    return kMetrics[0];
}

const HelpText kHelp[] = {
    {"component",
     QT_TRANSLATE_NOOP("A3Views",
                       "<b>Components</b>: <i>QK</i> cuts the query/key dimension inside each head (its error: the "
                       "attention scores q<sub>i</sub>k<sub>j</sub><sup>T</sup>); <i>OV</i> cuts the value dimension "
                       "(its error: the head outputs after W<sub>o</sub>); <i>MLP</i> keeps r of the d<sub>ff</sub> "
                       "intermediate channels (its error: the MLP output). The QK and OV cuts shrink the KV cache."),
     kA3},
    {"metric",
     QT_TRANSLATE_NOOP("A3Views",
                       "<b>Held-out error</b>: \u2016Y \u2212 \u0176\u2016<sub>F</sub> / \u2016Y\u2016<sub>F</sub> of "
                       "the component's output on the prompt rows not used for calibration. <b>Calibration "
                       "objective</b>: the same on the calibration moments \u2014 what the closed form minimises, so "
                       "A^3 is never worse there. <b>Row KL</b>: mean KL(softmax(S) \u2016 softmax(\u015c)) of the "
                       "attention rows (QK). <b>Weight-space error</b>: relative change of W<sub>q</sub>W<sub>k</sub>"
                       "<sup>T</sup>, W<sub>v</sub>W<sub>o</sub> or W<sub>down</sub>: small here does not mean small "
                       "where it matters."),
     kA3},
    {"map",
     QT_TRANSLATE_NOOP("A3Views",
                       "<b>A^3</b>: the closed form fitted to this model's activations. <b>Baseline</b>: plain "
                       "truncated SVD of the weights (QK, OV) or magnitude pruning (MLP), which ignores the "
                       "activations. <b>Gain</b>: baseline \u2212 A^3 (positive: A^3 is better)."),
     kA3},
    {"rank",
     QT_TRANSLATE_NOOP("A3Views",
                       "Kept dimension as a fraction of each component's full one (head dim for QK and OV, "
                       "d<sub>ff</sub> for MLP), the same for every layer. Ranks round to what a component allows "
                       "(whole rotary frequency pairs: even)."),
     kA3},
    {"rope",
     QT_TRANSLATE_NOOP("A3Views",
                       "How QK treats rotary embeddings [RECON: the paper's handling was not available]. "
                       "<i>freq_pairs</i>: keep whole rotary frequency pairs, ranked by E|q<sub>f</sub>|\u00b2"
                       "\u00b7E|k<sub>f</sub>|\u00b2 (RoPE stays exact). <i>pre_rope</i>: the closed form on the "
                       "scores before the rotation (exact only without RoPE). <i>no_rotary_cut</i>: cut only "
                       "non-rotary dimensions."),
     kA3},
    {"savings",
     QT_TRANSLATE_NOOP("A3Views",
                       "KV-cache bytes per token: 2\u00b7L\u00b7H<sub>kv</sub>\u00b7d\u00b7b in full, "
                       "L\u00b7H<sub>kv</sub>\u00b7(r<sub>qk</sub> + r<sub>vo</sub>)\u00b7b after the cut (b = 2 "
                       "bytes: a 16-bit cache). Weights removed: the rows and columns of W<sub>q</sub>, W<sub>k</sub>, "
                       "W<sub>v</sub>, W<sub>o</sub> and the MLP matrices that the cut makes unnecessary."),
     kA3},
};

}  // namespace

QString a3MetricName(A3Metric m) { return tr(textOf(m).name); }
QString a3MetricTitle(A3Metric m) { return tr(textOf(m).title); }
QString a3MetricKey(A3Metric m) { return QString::fromLatin1(textOf(m).key); }

A3Metric a3MetricFromKey(const QString& key) {
    for (const MetricText& t : kMetrics)
        if (key == QLatin1String(t.key)) return t.metric;
    fail(ErrorKind::BadInput, "a3: unknown metric '" + key.toStdString() + "' (held_out, objective, row_kl, weight_err)");
}

QString a3ComponentTitle(A3Component c) {
    switch (c) {
    case A3Component::QK: return tr("QK (scores)");
    case A3Component::OV: return tr("OV (outputs)");
    case A3Component::MLP: return tr("MLP");
    }
    return {};
}

bool a3MetricApplies(A3Metric m, A3Component c) { return m != A3Metric::RowKl || c == A3Component::QK; }

double a3Value(const A3Point& p, A3Metric m, bool baseline) {
    switch (m) {
    case A3Metric::HeldOut: return baseline ? p.baselineHeldOut : p.heldOut;
    case A3Metric::Objective: return baseline ? p.baselineObjective : p.objective;
    case A3Metric::RowKl: return baseline ? p.baselineRowKl : p.rowKl;
    case A3Metric::WeightErr: return baseline ? p.baselineWeightErr : p.weightErr;
    }
    return 0;
}

Matrix2D a3LayerMap(const A3Result& r, size_t f, A3Metric m, A3MapMode mode) {
    const int64_t L = int64_t(r.layers.size());
    Matrix2D out{L, kA3Components, std::vector<float>(size_t(L * kA3Components), std::numeric_limits<float>::quiet_NaN())};
    for (int64_t l = 0; l < L; ++l)
        for (int c = 0; c < kA3Components; ++c) {
            const A3Component comp = kAllA3Components[size_t(c)];
            const std::vector<A3Point>& pts = r.layers[size_t(l)].of(comp);
            if (f >= pts.size() || !a3MetricApplies(m, comp)) continue;
            const double a3 = a3Value(pts[f], m, false), base = a3Value(pts[f], m, true);
            const double v = mode == A3MapMode::A3 ? a3 : mode == A3MapMode::Baseline ? base : base - a3;
            out.data[size_t(l * kA3Components + c)] = float(v);
        }
    return out;
}

A3Savings a3Savings(const A3Result& r, size_t f, int bytesPerElement) {
    A3Savings s;
    s.bytesPerElement = bytesPerElement;
    if (r.layers.empty() || f >= r.fractions.size()) return s;
    for (int c = 0; c < kA3Components; ++c) {
        const A3Component comp = kAllA3Components[size_t(c)];
        s.r[size_t(c)] = r.layers.front().of(comp)[f].r;
        for (const A3Layer& l : r.layers) s.paramsSaved[size_t(c)] += l.of(comp)[f].paramsSaved;
    }
    const int64_t perDim = int64_t(r.nLayers) * r.nKvHeads * bytesPerElement;
    s.kvFullK = s.kvFullV = perDim * r.headDim;
    s.kvK = perDim * s.r[0];
    s.kvV = perDim * s.r[1];
    return s;
}

QString a3CalibrationWarning(const A3Result& r) {
    QStringList parts;
    if (r.calibTokens < r.dFF && r.params.refit)
        parts << tr("%1 calibration tokens estimate a %2 x %2 MLP moment: the refit of W_down can overfit (open a "
                    "calibration file, or turn the refit off).")
                     .arg(r.calibTokens)
                     .arg(r.dFF);
    if (r.calibTokens < r.headDim)
        parts << tr("fewer calibration tokens (%1) than head dimensions (%2): the QK and OV moments are singular.")
                     .arg(r.calibTokens)
                     .arg(r.headDim);
    if (r.heldOutRows < 32) parts << tr("only %1 held-out rows: the held-out errors are noisy.").arg(r.heldOutRows);
    return parts.join(QLatin1Char(' '));
}

QString a3Help(const char* key) { return lookUpHelp(kHelp, "A3Views", key); }

}  // namespace attnscope::widgets
