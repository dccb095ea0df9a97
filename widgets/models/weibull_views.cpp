#include "models/weibull_views.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QCoreApplication>

#include "models/help_text.h"

namespace attnscope::widgets {
namespace {

QString tr(const char* text) { return QCoreApplication::translate("WeibullViews", text); }

const char* const kPaper =
    "\u201cA Two-Parameter Weibull Framework for Diagnosing Transformer Weight Distributions\u201d (NPM-Weibull)";
const char* const kOrder[] = {"q", "k", "v", "qkv", "o", "gate", "up", "down", "embed", "lm_head"};

QString shapeText(const std::vector<int64_t>& shape) {
    QStringList dims;
    for (int64_t d : shape) dims << QString::number(d);
    return dims.join(QStringLiteral(" \u00d7 "));
}

const HelpText kWeibullHelps[] = {
    {"k",
     QT_TRANSLATE_NOOP("WeibullViews",
                       "<b>Weibull shape k</b> of |w| per matrix, fitted on the probability plot. Colours diverge "
                       "from the HalfNormal anchor k = 1.2054 (white, what Gaussian initialisation gives): red "
                       "above it, blue below. Transmission matrices (W_o, FFN) sit near 1.19\u20131.20; Selection "
                       "matrices (W_q, W_k) drift below."),
     kPaper},
    {"lambda",
     QT_TRANSLATE_NOOP("WeibullViews",
                       "<b>Weibull scale \u03bb</b> of |w|, in weight units: about 0.8875\u00b7\u03c3 for a "
                       "HalfNormal of standard deviation \u03c3."),
     kPaper},
    {"lines",
     QT_TRANSLATE_NOOP("WeibullViews",
                       "k against layer per component. Shaded: the Transmission band [1.186, 1.204]; dashed: the "
                       "HalfNormal anchor 1.2054."),
     kPaper},
    {"protocol",
     QT_TRANSLATE_NOOP("WeibullViews",
                       "<b>exact</b>: sorted |w|, Hazen positions (i\u22120.5)/n, least squares (the paper's "
                       "analysis scripts). <b>hist</b>: 1024 bins of log10|w|, count-weighted least squares (the "
                       "library's weibull_fit). They agree to about 1e-3 in k."),
     kPaper},
    {"trim",
     QT_TRANSLATE_NOOP("WeibullViews",
                       "Which part of the CDF is fitted: mid80 (0.1 \u2264 F \u2264 0.9, the paper's standard), "
                       "mid90, or full. k depends on it: a HalfNormal gives 1.2054 / 1.1909 / about 1.155."),
     kPaper},
    {"detail",
     QT_TRANSLATE_NOOP("WeibullViews",
                       "Left: the Weibull probability plot, ln(\u2212ln(1\u2212F)) against ln|w|; a Weibull is a "
                       "straight line of slope k. Shaded: the trimmed window that is fitted. Right: histogram of "
                       "log10|w| with the fitted Weibull's expected counts."),
     kPaper},
    {"series",
     QT_TRANSLATE_NOOP("WeibullViews",
                       "k and λ against training step, averaged over the layers per component. The paper: "
                       "Transmission matrices (FFN, W_o) stay in the band [1.186, 1.204] near the initial 1.2054; "
                       "Selection matrices (W_q, W_k) drift below it as training goes on."),
     kPaper},
};

}  // namespace

WeibullGrid weibullGrid(const std::vector<WeibullMatrixFit>& fits) {
    WeibullGrid g;
    bool outside = false;
    for (const WeibullMatrixFit& f : fits) {
        g.nLayers = std::max(g.nLayers, f.layer + 1);
        outside = outside || f.layer < 0;
    }
    for (const char* c : kOrder) {
        const bool present = std::any_of(fits.begin(), fits.end(),
                                         [c](const WeibullMatrixFit& f) { return f.component == c; });
        if (present) g.columns << QString::fromLatin1(c);
    }
    for (int l = 0; l < g.nLayers; ++l) g.rowLabels << QString::number(l);
    if (outside) g.rowLabels << tr("outside");
    g.fitIndex.assign(size_t(g.rows() * g.cols()), -1);
    for (size_t i = 0; i < fits.size(); ++i) {
        const int row = fits[i].layer >= 0 ? fits[i].layer : g.nLayers;
        const int col = int(g.columns.indexOf(QString::fromStdString(fits[i].component)));
        if (row < g.rows() && col >= 0) g.fitIndex[size_t(row * g.cols() + col)] = int(i);
    }
    return g;
}

Matrix2D weibullGridValues(const WeibullGrid& g, const std::vector<WeibullMatrixFit>& fits, bool lambda) {
    Matrix2D m{g.rows(), g.cols(),
               std::vector<float>(size_t(g.rows() * g.cols()), std::numeric_limits<float>::quiet_NaN())};
    for (size_t i = 0; i < g.fitIndex.size(); ++i) {
        const int f = g.fitIndex[i];
        if (f < 0 || !fits[size_t(f)].fit.ok) continue;
        m.data[i] = float(lambda ? fits[size_t(f)].fit.lambda : fits[size_t(f)].fit.k);
    }
    return m;
}

std::vector<std::pair<int, double>> weibullComponentCurve(const std::vector<WeibullMatrixFit>& fits,
                                                          const QString& component) {
    std::vector<std::pair<int, double>> curve;
    for (const WeibullMatrixFit& f : fits)
        if (f.layer >= 0 && f.fit.ok && QString::fromStdString(f.component) == component)
            curve.emplace_back(f.layer, f.fit.k);
    std::sort(curve.begin(), curve.end());
    return curve;
}

QStringList weibullSeriesComponents(const std::vector<WeibullSeriesPoint>& series) {
    std::vector<WeibullMatrixFit> all;
    for (const WeibullSeriesPoint& p : series) all.insert(all.end(), p.fits.begin(), p.fits.end());
    return weibullGrid(all).columns;
}

std::vector<std::pair<double, double>> weibullSeriesMeans(const std::vector<WeibullSeriesPoint>& series,
                                                          const QString& component, bool lambda) {
    std::vector<std::pair<double, double>> out;
    for (const WeibullSeriesPoint& p : series) {
        double sum = 0;
        int n = 0;
        for (const WeibullMatrixFit& f : p.fits) {
            if (!f.fit.ok || QString::fromStdString(f.component) != component) continue;
            sum += lambda ? f.fit.lambda : f.fit.k;
            ++n;
        }
        if (n) out.emplace_back(double(p.checkpoint.step), sum / n);
    }
    return out;
}

std::vector<std::pair<QString, QString>> weibullFitRows(const WeibullMatrixFit& m) {
    const WeibullResult& f = m.fit;
    std::vector<std::pair<QString, QString>> rows = {
        // Zero-width spaces after the dots let long tensor names wrap in the table.
        {tr("matrix"), QString::fromStdString(m.name).replace(QLatin1Char('.'), QStringLiteral(".\u200b"))},
        {tr("layer"), m.layer >= 0 ? QString::number(m.layer) : tr("outside the blocks")},
        {tr("component"), QString::fromStdString(m.component)},
        {tr("shape"), shapeText(m.shape)},
    };
    if (!f.ok) {
        rows.emplace_back(tr("fit"), tr("failed: %1").arg(QString::fromStdString(f.reason)));
        return rows;
    }
    rows.insert(rows.end(), {
        {tr("k (shape)"), QStringLiteral("%1 \u00b1 %2").arg(f.k, 0, 'f', 4).arg(f.sdK, 0, 'f', 4)},
        {tr("\u03bb (scale)"), QString::number(f.lambda, 'g', 5)},
        {tr("R\u00b2"), QString::number(f.r2, 'f', 5)},
        {tr("KS distance"), QString::number(f.ks, 'f', 5)},
        {tr("n (values / fitted)"), QStringLiteral("%1 / %2").arg(f.nValues).arg(f.nFit)},
        {tr("protocol, trim"), QStringLiteral("%1, %2").arg(f.protocol == WeibullProtocol::Exact ? "exact" : "hist",
                                                            f.trim == WeibullTrim::Mid80   ? "mid80"
                                                            : f.trim == WeibullTrim::Mid90 ? "mid90"
                                                                                           : "full")},
        {tr("class"), QString::fromStdString(f.cls)},
        {tr("drift from 1.205"),
         QStringLiteral("%1 % (%2)").arg(f.driftPct, 0, 'f', 2).arg(QString::fromStdString(f.drift))},
    });
    if (f.lowR2) {
        // The fit is poor: the distribution-free shape numbers are the ones to read.
        rows.insert(rows.end(), {{tr("q90 / q10"), QString::number(f.distFree.q90q10, 'g', 4)},
                                 {tr("q99 / q50"), QString::number(f.distFree.q99q50, 'g', 4)},
                                 {tr("Gini"), QString::number(f.distFree.gini, 'g', 4)}});
    }
    return rows;
}

QString weibullCellText(const WeibullMatrixFit& m) {
    const WeibullResult& f = m.fit;
    if (!f.ok) return tr("%1: no fit (%2)").arg(QString::fromStdString(m.name), QString::fromStdString(f.reason));
    return tr("%1<br>k = %2 \u00b1 %3, \u03bb = %4, R\u00b2 = %5<br>class: %6%7")
        .arg(QString::fromStdString(m.name))
        .arg(f.k, 0, 'f', 4).arg(f.sdK, 0, 'f', 4)
        .arg(f.lambda, 0, 'g', 4)
        .arg(f.r2, 0, 'f', 4)
        .arg(QString::fromStdString(f.cls),
             f.lowR2 ? tr(" (R\u00b2 < 0.95: read the distribution-free metrics)") : QString());
}

QString weibullHelp(const char* which) { return lookUpHelp(kWeibullHelps, "WeibullViews", which); }

}  // namespace attnscope::widgets
