#include "models/sink_views.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QCoreApplication>

#include "models/help_text.h"
#include <QtNumeric>

namespace attnscope::widgets {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

QString tr(const char* text) { return QCoreApplication::translate("SinkViews", text); }

const char* const kGu = "Gu et al. 2024, \u201cWhen Attention Sink Emerges in Language Models\u201d";
const char* const kSun = "Sun et al. 2024, \u201cMassive Activations in Large Language Models\u201d";
const char* const kWong =
    "Wong et al., \u201cOn the Existence and Behaviour of Secondary Attention Sinks\u201d (arXiv 2512.22213)";

// SinkResult::count lives in core, which widgets do not link.
int countOf(const SinkResult& r, SinkClass cls) {
    return int(std::count_if(r.sinks.begin(), r.sinks.end(), [cls](const SinkToken& s) { return s.cls == cls; }));
}

const HelpText kSinkParameterHelps[] = {
    {"epsilon",
     QT_TRANSLATE_NOOP("SinkViews",
                       "\u03b5: a head counts token t as a sink when its causal mean attention to t exceeds "
                       "\u03b5 (0.3 in the paper)."),
     kGu},
    {"cos",
     QT_TRANSLATE_NOOP("SinkViews",
                       "|cos| threshold: token t is a sink in layer l when |cos(h<sup>l</sup><sub>t</sub>, "
                       "h<sup>l</sup><sub>p0</sub>)| exceeds it (0.9 in the paper's code)."),
     kWong},
    {"minq",
     QT_TRANSLATE_NOOP("SinkViews",
                       "Minimum query position: query rows before it are left out of the causal means "
                       "(the first rows attend to the first tokens by construction). Changing it recomputes "
                       "the attention statistics; the other parameters only re-classify.")},
    {"rule",
     QT_TRANSLATE_NOOP("SinkViews",
                       "How a lifetime \u03bb (number of sink layers) becomes a class. <b>Official</b>: primary if "
                       "\u03bb \u2265 L\u221215, secondary if 4 < \u03bb < L\u221215, else noise. <b>Relative</b> "
                       "(for small models): primary if \u03bb \u2265 0.6\u00b7(analysed layers) and it starts "
                       "within 2 layers of the onset. <b>Auto</b>: official when L \u2265 21."),
     kWong},
    {"clipper",
     QT_TRANSLATE_NOOP("SinkViews",
                       "Analyse every layer. Off (the paper's \u201csink clipper\u201d): only the primary sink's range "
                       "[l_on, l_off), from its largest jump in \u2016h\u2016 to the largest drop after it; small "
                       "models often give a range of one or two layers."),
     kWong},
    {"levels",
     QT_TRANSLATE_NOOP("SinkViews",
                       "Sink levels: each sink token sits at (creation layer, lifetime); colour is log(1 + number "
                       "of tokens) at that level, as in the paper's hierarchical-levels figure. Click a level to "
                       "select its tokens."),
     kWong},
    {"layers",
     QT_TRANSLATE_NOOP("SinkViews",
                       "Per layer: the primary sink's score s<sup>l</sup><sub>p0</sub>, its weakening "
                       "w<sup>l</sup> = 1 \u2212 s<sup>l</sup><sub>p0</sub> / max s<sub>p0</sub>, and (bars) the "
                       "number of secondary sinks created in that layer. The primary weakens where secondary "
                       "sinks appear."),
     kWong},
    {"token",
     QT_TRANSLATE_NOOP("SinkViews",
                       "The selected token across layers: cos(h, h at p0) (dashed lines: \u00b1 threshold), "
                       "\u2016h\u2016, and (dotted) cos(y, y at p0) of its MLP output. Filled markers are the layers "
                       "where it counts as a sink; the vertical line marks its creation layer, with the MLP output's "
                       "norm and alignment with the primary's there."),
     kWong},
};

}  // namespace

namespace {

// One row per quantity: combo text, colour-bar title (short: the bar is only as tall as the
// map; the tooltip says the rest), and what it is with the paper that defines it.
struct QuantityText {
    SinkQuantity quantity;
    const char* name;
    const char* title;
    const char* help;
    const char* source;
};

const QuantityText kQuantityTexts[] = {
    {SinkQuantity::Score, QT_TRANSLATE_NOOP("SinkViews", "Sink score s"), QT_TRANSLATE_NOOP("SinkViews", "sink score s"),
     QT_TRANSLATE_NOOP("SinkViews",
                       "<b>Sink score</b> s<sup>l</sup><sub>t</sub>: the attention token t receives in layer l, "
                       "averaged over heads and over the queries that can see it (causally normalised: "
                       "the column sum divided by the number of rows below the diagonal)."),
     kGu},
    {SinkQuantity::FracHeads, QT_TRANSLATE_NOOP("SinkViews", "Fraction of heads with \u03b1 > \u03b5"),
     QT_TRANSLATE_NOOP("SinkViews", "heads with \u03b1 > \u03b5"),
     QT_TRANSLATE_NOOP("SinkViews",
                       "<b>Fraction of heads</b> f<sup>l</sup><sub>t</sub>: the share of layer l's heads whose "
                       "causal mean attention to token t exceeds \u03b5 (0.3 by default)."),
     kGu},
    {SinkQuantity::AbsCos, QT_TRANSLATE_NOOP("SinkViews", "|cos| to the primary sink"),
     QT_TRANSLATE_NOOP("SinkViews", "|cos(h, h at p0)|"),
     QT_TRANSLATE_NOOP("SinkViews",
                       "<b>|cos| to the primary sink</b>: |cos(h<sup>l</sup><sub>t</sub>, h<sup>l</sup><sub>p0</sub>)| "
                       "between token t's residual stream and the primary sink's. A token whose value exceeds "
                       "the threshold (0.9) is a sink in that layer."),
     kWong},
    {SinkQuantity::HiddenNorm, QT_TRANSLATE_NOOP("SinkViews", "Hidden-state norm \u2016h\u2016"),
     QT_TRANSLATE_NOOP("SinkViews", "\u2016h\u2016 (residual)"),
     QT_TRANSLATE_NOOP("SinkViews",
                       "<b>Hidden-state norm</b> \u2016h<sup>l</sup><sub>t</sub>\u2016: sinks carry \u201cmassive "
                       "activations\u201d, a few channels orders of magnitude above the median."),
     kSun},
};

const QuantityText& textOf(SinkQuantity q) {
    for (const QuantityText& t : kQuantityTexts)
        if (t.quantity == q) return t;
    return kQuantityTexts[0];
}

}  // namespace

QString sinkQuantityName(SinkQuantity q) { return tr(textOf(q).name); }

QString sinkQuantityTitle(SinkQuantity q) { return tr(textOf(q).title); }

QString sinkQuantityHelp(SinkQuantity q) { return tr(textOf(q).help) + citeSource(textOf(q).source); }

Matrix2D sinkQuantityMatrix(const SinkResult& r, SinkQuantity q) {
    const int64_t T = r.T;
    const int L = int(r.layers.size());
    Matrix2D m{L, T, std::vector<float>(size_t(int64_t(L) * T), kNaN)};
    for (int l = 0; l < L; ++l) {
        const SinkLayer& layer = r.layers[size_t(l)];
        const std::vector<float>* src = nullptr;
        switch (q) {
        case SinkQuantity::Score: src = &layer.sinkScore; break;
        case SinkQuantity::FracHeads: src = &layer.fracHeads; break;
        case SinkQuantity::AbsCos: src = &layer.cosToPrimary; break;
        case SinkQuantity::HiddenNorm: src = &layer.hiddenNorm; break;
        }
        if (src->size() != size_t(T)) continue;  // not in this result
        for (int64_t t = 0; t < T; ++t) {
            const float v = (*src)[size_t(t)];
            m.data[size_t(l * T + t)] = q == SinkQuantity::AbsCos ? std::abs(v) : v;
        }
    }
    return m;
}

Matrix2D sinkLevelMatrix(const SinkResult& r) {
    const int L = std::max(r.nLayers, 1);
    Matrix2D m{L, L, std::vector<float>(size_t(L * L), kNaN)};
    for (const SinkLevel& level : r.levels) {
        const int row = level.lifetime - 1, col = level.creationLayer;
        if (row < 0 || row >= L || col < 0 || col >= L || level.count <= 0) continue;
        m.data[size_t(row * L + col)] = float(std::log1p(double(level.count)));
    }
    return m;
}

const SinkLevel* sinkLevelAt(const SinkResult& r, int row, int col) {
    for (const SinkLevel& level : r.levels)
        if (level.lifetime - 1 == row && level.creationLayer == col) return &level;
    return nullptr;
}

std::vector<int64_t> sinkPositions(const SinkResult& r, SinkClass cls) {
    std::vector<int64_t> out;
    for (const SinkToken& s : r.sinks)
        if (s.cls == cls) out.push_back(s.token);
    std::sort(out.begin(), out.end());
    return out;
}

const SinkToken* findSink(const SinkResult& r, int64_t token) {
    for (const SinkToken& s : r.sinks)
        if (s.token == token) return &s;
    return nullptr;
}

void sinkMarkPoints(const SinkResult& r, SinkClass cls, QVector<double>& tokens, QVector<double>& layers) {
    tokens.clear();
    layers.clear();
    for (const SinkToken& s : r.sinks) {
        if (s.cls != cls) continue;
        for (int l : s.layers) {
            tokens << double(s.token);
            layers << double(l);
        }
    }
}

SinkLayerCurves sinkLayerCurves(const SinkResult& r) {
    SinkLayerCurves c;
    for (size_t l = 0; l < r.layers.size(); ++l) {
        c.layers << double(l);
        c.strength << r.layers[l].primaryStrength;
        c.weakening << r.layers[l].weakening;
        c.created << r.layers[l].secondaryCreated;
    }
    return c;
}

SinkTokenCurves sinkTokenCurves(const SinkResult& r, int64_t t) {
    SinkTokenCurves c;
    if (t < 0 || t >= r.T) return c;
    for (size_t l = 0; l < r.layers.size(); ++l) {
        const SinkLayer& layer = r.layers[l];
        c.layers << double(l);
        c.cos << (layer.cosToPrimary.empty() ? qQNaN() : double(layer.cosToPrimary[size_t(t)]));
        c.norm << (layer.hiddenNorm.empty() ? qQNaN() : double(layer.hiddenNorm[size_t(t)]));
        if (!layer.mlpCosToPrimary.empty()) c.mlpCos << double(layer.mlpCosToPrimary[size_t(t)]);
    }
    if (const SinkToken* s = findSink(r, t)) {
        for (int l : s->layers) {
            c.sinkLayers << l;
            c.sinkCos << c.cos.value(l);
        }
        if (s->cls != SinkClass::None && s->creationLayer >= 0 && s->creationLayer < int(r.layers.size())) {
            c.creationLayer = s->creationLayer;
            c.mlpNormAtCreation = s->mlpNormAtCreation;
            c.mlpCosAtCreation = s->mlpCosAtCreation;
        }
    }
    return c;
}

QColor sinkClassColor(SinkClass cls) {
    switch (cls) {
    case SinkClass::Primary: return QColor(0xe0, 0x1e, 0x37);    // red
    case SinkClass::Secondary: return QColor(0xff, 0x9f, 0x1c);  // orange
    case SinkClass::Noise: return QColor(0xb0, 0xb0, 0xb0);      // grey
    case SinkClass::None: break;
    }
    return QColor(0x80, 0x80, 0x80);
}

QString sinkClassLabel(SinkClass cls) {
    switch (cls) {
    case SinkClass::Primary: return tr("primary");
    case SinkClass::Secondary: return tr("secondary");
    case SinkClass::Noise: return tr("noise");
    case SinkClass::None: break;
    }
    return tr("not a sink");
}

QString sinkSummary(const SinkResult& r, const QString& primaryText) {
    const QString rule = r.rule == SinkRule::Official ? tr("official thresholds (\u03bb \u2265 L\u221215 primary)")
                                                      : tr("relative thresholds (small model)");
    const QString source = r.source == SinkSource::Hidden ? tr("hidden-state cosine") : tr("attention only");
    const QString layers = r.offset - r.onset == 1 ? tr("analysed layer %1").arg(r.onset)
                                                   : tr("analysed layers %1\u2013%2").arg(r.onset).arg(r.offset - 1);
    return tr("Primary sink p0 = %1%2 \u00b7 %3 \u00b7 %4, %5 \u00b7 %6 primary, %7 secondary, %8 noise")
        .arg(r.primary)
        .arg(primaryText.isEmpty() ? QString() : QStringLiteral(" \u201c%1\u201d").arg(primaryText))
        .arg(layers, source, rule)
        .arg(countOf(r, SinkClass::Primary))
        .arg(countOf(r, SinkClass::Secondary))
        .arg(countOf(r, SinkClass::Noise));
}

QString sinkTokenDescription(const SinkResult& r, int64_t token, const QString& tokenText) {
    QString head = tr("Token %1").arg(token);  // rich text: the token is escaped
    if (!tokenText.isEmpty()) head += QStringLiteral(" \u201c%1\u201d").arg(tokenText.toHtmlEscaped());
    const SinkToken* s = findSink(r, token);
    if (!s) return head + tr(": not flagged in any analysed layer");
    QStringList layers;
    for (int l : s->layers) layers << QString::number(l);
    QString text = tr("%1: %2 sink \u00b7 created at layer %3 \u00b7 lifetime %4 (layers %5) \u00b7 mean score %6")
                       .arg(head, sinkClassLabel(s->cls))
                       .arg(s->creationLayer)
                       .arg(s->lifetime)
                       .arg(layers.join(QLatin1Char(',')))
                       .arg(double(s->meanScore), 0, 'g', 3);
    const bool hasMlp = !r.layers.empty() && !r.layers.front().mlpNorm.empty();
    text += hasMlp ? tr("<br>MLP output at creation layer %1: \u2016y\u2016 = %2, cos(y, y at p0) = %3")
                         .arg(s->creationLayer)
                         .arg(double(s->mlpNormAtCreation), 0, 'g', 3)
                         .arg(double(s->mlpCosAtCreation), 0, 'f', 3)
                   : tr("<br>MLP outputs were not captured in this run");
    return text;
}

QString sinkCellText(const SinkResult& r, SinkQuantity q, int layer, int64_t token, float value,
                     const QString& tokenText) {
    const SinkToken* s = findSink(r, token);
    const bool flagged = s && std::find(s->layers.begin(), s->layers.end(), layer) != s->layers.end();
    return tr("layer %1, token %2 \u201c%3\u201d<br>%4 = %5<br>%6%7")
        .arg(layer)
        .arg(token)
        .arg(tokenText.toHtmlEscaped(), sinkQuantityName(q))
        .arg(double(value), 0, 'g', 4)
        .arg(s ? tr("%1 sink").arg(sinkClassLabel(s->cls)) : tr("not a sink"),
             flagged ? tr(", a sink in this layer") : QString());
}

QString sinkLevelText(const SinkResult& r, int row, int col) {
    const SinkLevel* level = sinkLevelAt(r, row, col);
    if (!level) return tr("created at layer %1, lifetime %2: no sinks").arg(col).arg(row + 1);
    return tr("created at layer %1, lifetime %2: %3 token(s), %4, mean score %5<br>click to select them")
        .arg(col)
        .arg(row + 1)
        .arg(level->count)
        .arg(sinkClassLabel(level->cls))
        .arg(double(level->meanScore), 0, 'g', 3);
}

QString sinkFitText(const LinearFit& f) {
    if (f.n < 2) return tr("r undefined: fewer than 2 sinks (n = %1)").arg(f.n);
    if (!f.lineDefined) return tr("r undefined: \u2016y\u2016 is the same for all %1 sinks").arg(f.n);
    if (!f.rDefined) return tr("r undefined: the %1 sinks share one value").arg(f.n);
    return tr("r = %1, fit %2 %3 %4\u00b7x (n = %5)")
        .arg(f.r, 0, 'f', 2)
        .arg(f.intercept, 0, 'g', 3)
        .arg(f.slope < 0 ? QStringLiteral("\u2212") : QStringLiteral("+"))
        .arg(std::abs(f.slope), 0, 'g', 3)
        .arg(f.n);
}

QString sinkMarksLegend() {
    const std::pair<SinkClass, QChar> marks[] = {
        {SinkClass::Primary, QChar(0x25b2)}, {SinkClass::Secondary, QChar(0x25c6)}, {SinkClass::Noise, QChar(0x25cf)}};
    QStringList parts;
    for (const auto& [cls, shape] : marks)
        parts << QStringLiteral("<span style='color:%1'>%2</span> %3")
                     .arg(sinkClassColor(cls).name(), QString(shape), sinkClassLabel(cls));
    return tr("Marks: layers where a token is a sink \u2014 %1").arg(parts.join(QStringLiteral(" &nbsp; ")));
}

QString sinkParameterHelp(const char* which) { return lookUpHelp(kSinkParameterHelps, "SinkViews", which); }

}  // namespace attnscope::widgets
