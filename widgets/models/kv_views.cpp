#include "models/kv_views.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <QCoreApplication>

namespace attnscope::widgets {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

QString tr(const char* text) { return QCoreApplication::translate("KvViews", text); }

// Share of `layer`'s query heads (head -1) or the one head that keep `key` at `query`.
float keptValue(const KvSelection& sel, const KvMapRow& row, int64_t key, int64_t query) {
    if (row.head >= 0) return kvIsKept(sel, row.layer, row.head, key, query) ? 1.f : 0.f;
    int n = 0;
    for (int h = 0; h < sel.nHeads; ++h) n += kvIsKept(sel, row.layer, h, key, query) ? 1 : 0;
    return float(n) / float(std::max(sel.nHeads, 1));
}

bool keptEverywhere(const KvSelection& sel, int64_t key, int64_t query) {
    for (int l = 0; l < sel.nLayers; ++l)
        for (int h = 0; h < sel.heads; ++h)
            if (sel.visibleUntil(l, h, key) <= query) return false;
    return true;
}

}  // namespace

std::vector<KvMapRow> kvMapRows(const KvSelection& sel, int expandedLayer) {
    std::vector<KvMapRow> rows;
    for (int l = 0; l < sel.nLayers; ++l) {
        rows.push_back({l, -1});
        if (l == expandedLayer)
            for (int h = 0; h < sel.nHeads; ++h) rows.push_back({l, h});
    }
    return rows;
}

QStringList kvMapRowLabels(const std::vector<KvMapRow>& rows) {
    QStringList labels;
    for (const KvMapRow& r : rows)
        labels << (r.head < 0 ? tr("L%1").arg(r.layer) : tr("  h%1").arg(r.head));
    return labels;
}

int kvMapRowOf(const std::vector<KvMapRow>& rows, int layer, int head) {
    const auto it = std::find(rows.begin(), rows.end(), KvMapRow{layer, head});
    return it == rows.end() ? -1 : int(it - rows.begin());
}

int kvHeadOf(const KvSelection& sel, int queryHead) {
    if (sel.heads <= 1) return 0;
    if (sel.heads == sel.nHeads) return queryHead;
    return queryHead / std::max(1, sel.nHeads / std::max(1, sel.heads));  // KV head of a GQA group
}

int kvStepCount(const KvSelection& sel) {
    return sel.mode == KvMode::Decode ? int(std::max<int64_t>(0, sel.T - sel.promptLength)) : 0;
}

int64_t kvMapQuery(const KvSelection& sel, int step) {
    if (sel.mode != KvMode::Decode) return sel.promptLength;
    return sel.promptLength + std::clamp<int64_t>(step, 0, std::max<int64_t>(0, sel.T - sel.promptLength - 1));
}

int64_t kvMapColumns(const KvSelection& sel) { return sel.mode == KvMode::Decode ? sel.T : sel.promptLength; }

bool kvIsKept(const KvSelection& sel, int layer, int queryHead, int64_t key, int64_t query) {
    if (key > query || key < 0 || key >= sel.T) return false;
    return sel.visibleUntil(layer, kvHeadOf(sel, queryHead), key) > query;
}

std::vector<int64_t> kvKeptKeys(const KvSelection& sel, int layer, int queryHead, int64_t query) {
    std::vector<int64_t> keys;
    const int64_t cols = std::min(kvMapColumns(sel), query + 1);
    for (int64_t j = 0; j < cols; ++j)
        if (kvIsKept(sel, layer, queryHead, j, query)) keys.push_back(j);
    return keys;
}

Matrix2D kvKeepMatrix(const KvSelection& sel, const std::vector<KvMapRow>& rows, int64_t query) {
    const int64_t cols = kvMapColumns(sel);
    Matrix2D m{int64_t(rows.size()), cols, std::vector<float>(rows.size() * size_t(cols), kNaN)};
    for (size_t r = 0; r < rows.size(); ++r)
        for (int64_t j = 0; j < cols && j <= query; ++j) m.data[r * size_t(cols) + size_t(j)] = keptValue(sel, rows[r], j, query);
    return m;
}

Matrix2D kvDiffMatrix(const KvSelection& a, const KvSelection& b, const std::vector<KvMapRow>& rows, int64_t query) {
    Matrix2D ma = kvKeepMatrix(a, rows, query);
    const Matrix2D mb = kvKeepMatrix(b, rows, query);
    if (mb.cols != ma.cols) return {};
    for (size_t i = 0; i < ma.data.size(); ++i) ma.data[i] -= mb.data[i];  // NaN stays NaN
    return ma;
}

std::vector<float> kvStripMask(const KvSelection& sel, int layer, int queryHead, int64_t query, int64_t count) {
    std::vector<float> mask(size_t(std::max<int64_t>(count, 0)), 1.f);
    if (layer < 0 || layer >= sel.nLayers) return mask;
    const int64_t cols = std::min(kvMapColumns(sel), std::min(count, query + 1));
    for (int64_t j = 0; j < cols; ++j) mask[size_t(j)] = keptValue(sel, {layer, queryHead}, j, query);
    return mask;
}

KvCommonRegions kvCommonRegions(const KvSelection& sel, int64_t query) {
    KvCommonRegions r;
    if (sel.precision) return r;  // nothing is evicted: no region says anything
    const int64_t last = std::min(kvMapColumns(sel), query + 1);  // keys 0 .. last-1 exist
    while (r.prefix < last && keptEverywhere(sel, r.prefix, query)) ++r.prefix;
    if (r.prefix == last) return {0, 0};  // everything kept
    while (r.suffix < last - r.prefix && keptEverywhere(sel, last - 1 - r.suffix, query)) ++r.suffix;
    return r;
}

QVector<double> kvLayerMetric(const KvLocalMetrics& m, KvLocalMetric which) {
    QVector<double> v;
    for (const KvLayerMetrics& l : m.layers)
        v << (which == KvLocalMetric::RetainedMass   ? l.retainedMass
              : which == KvLocalMetric::OutputRelErr ? l.outputRelErr
                                                     : l.residErr);
    return v;
}

QString kvLocalMetricName(KvLocalMetric which) {
    switch (which) {
    case KvLocalMetric::RetainedMass: return tr("retained mass \u03c1");
    case KvLocalMetric::OutputRelErr: return tr("output rel. error \u2016\u00f4\u2212o\u2016/\u2016o\u2016");
    case KvLocalMetric::ResidErr: return tr("residual error \u2016W_O(\u00f4\u2212o)\u2016");
    }
    return {};
}

QString kvLocalMetricHelp(KvLocalMetric which) {
    const QString src = tr("<br><i>Reference Part 3 \u00a73.1: hidden states of the full run held fixed; means over "
                           "query heads and continuation queries.</i>");
    switch (which) {
    case KvLocalMetric::RetainedMass:
        return tr("<b>\u03c1</b>: the attention mass the continuation queries put on kept keys (1 = nothing "
                  "lost).") + src;
    case KvLocalMetric::OutputRelErr:
        return tr("<b>Relative output error</b> \u2016\u00f4 \u2212 o\u2016 / \u2016o\u2016 of each head's "
                  "attention output; o \u2212 \u00f4 = (1 \u2212 \u03c1)(\u014d<sub>ev</sub> \u2212 \u00f4).") + src;
    case KvLocalMetric::ResidErr:
        return tr("<b>Residual-space error</b> \u2016W<sub>O</sub><sup>(h)</sup>(\u00f4 \u2212 o)\u2016: the "
                  "head's error after the output projection, in the residual stream's units.") + src;
    }
    return {};
}

QString kvSweepMetricName(KvSweepMetric which) {
    switch (which) {
    case KvSweepMetric::Kl: return tr("next-token KL(full \u2016 compressed) (nats)");
    case KvSweepMetric::Top1: return tr("top-1 agreement with the full cache");
    case KvSweepMetric::RetainedMass: return tr("retained attention mass \u03c1");
    case KvSweepMetric::OutputRelErr: return tr("attention output rel. error");
    case KvSweepMetric::Perplexity: return tr("continuation perplexity (compressed)");
    }
    return {};
}

double kvSweepValue(const KvSweepPoint& p, KvSweepMetric which) {
    switch (which) {
    case KvSweepMetric::Kl: return p.kl;
    case KvSweepMetric::Top1: return p.top1;
    case KvSweepMetric::RetainedMass: return p.retainedMass;
    case KvSweepMetric::OutputRelErr: return p.outputRelErr;
    case KvSweepMetric::Perplexity: return p.ppl;
    }
    return 0;
}

std::vector<Series> kvSweepSeries(const std::vector<KvSweepPoint>& points, KvSweepMetric which) {
    std::vector<Series> out;
    std::map<std::string, std::vector<std::pair<double, double>>> byPolicy;
    for (const KvSweepPoint& p : points) {
        if (!byPolicy.count(p.policy)) out.push_back({p.policy, {}, {}});
        byPolicy[p.policy].emplace_back(double(p.budget), kvSweepValue(p, which));
    }
    for (Series& s : out) {
        auto& pts = byPolicy[s.name];
        std::stable_sort(pts.begin(), pts.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
        for (const auto& [x, y] : pts) {
            s.x.push_back(x);
            s.y.push_back(y);
        }
    }
    return out;
}

QString kvSweepCsv(const std::vector<KvSweepPoint>& points) {
    QStringList lines{QStringLiteral("policy,budget,kl,top1,ppl,ppl_full,retained_mass,output_rel_err")};
    for (const KvSweepPoint& p : points)
        lines << QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8")
                     .arg(QString::fromStdString(p.policy))
                     .arg(p.budget)
                     .arg(p.kl, 0, 'g', 8)
                     .arg(p.top1, 0, 'g', 8)
                     .arg(p.ppl, 0, 'g', 8)
                     .arg(p.pplFull, 0, 'g', 8)
                     .arg(p.retainedMass, 0, 'g', 8)
                     .arg(p.outputRelErr, 0, 'g', 8);
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

std::vector<KvSweepPoint> kvSweepFromCliCsv(const QString& text, QString* error) {
    std::vector<KvSweepPoint> out;
    QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    if (error) error->clear();
    if (lines.isEmpty()) return out;
    const QStringList header = lines.takeFirst().trimmed().split(QLatin1Char(','));
    const int iPolicy = int(header.indexOf(QStringLiteral("policy"))), iBudget = int(header.indexOf(QStringLiteral("budget")));
    const char* names[] = {"kl", "top1", "ppl", "ppl_full", "retained_mass", "output_rel_err"};
    int idx[6];
    for (int k = 0; k < 6; ++k) idx[k] = int(header.indexOf(QString::fromLatin1(names[k])));
    if (iPolicy < 0 || iBudget < 0 || idx[0] < 0) {
        if (error) *error = tr("not a kv-sweep CSV: needs policy, budget and kl columns");
        return out;
    }
    for (int n = 0; n < lines.size(); ++n) {
        const QStringList f = lines[n].trimmed().split(QLatin1Char(','));
        KvSweepPoint p;
        bool ok = f.size() == header.size();
        if (ok) {
            p.policy = f[iPolicy].toStdString();
            p.budget = f[iBudget].toLongLong(&ok);
        }
        double* dst[] = {&p.kl, &p.top1, &p.ppl, &p.pplFull, &p.retainedMass, &p.outputRelErr};
        for (int k = 0; ok && k < 6; ++k)
            if (idx[k] >= 0) *dst[k] = f[idx[k]].toDouble(&ok);
        if (ok) out.push_back(p);
        else if (error && error->isEmpty()) *error = tr("line %1 does not parse").arg(n + 2);
    }
    return out;
}

double kvParamValue(const KvParams& params, const KvParamSpec& spec) {
    const auto it = params.values.find(spec.name);
    return it == params.values.end() ? spec.defaultValue : it->second;
}

KvParamWidget kvParamWidget(const KvParamSpec& spec) {
    if (!spec.choices.empty()) return KvParamWidget::Choice;
    const bool integral = spec.defaultValue == std::floor(spec.defaultValue);
    if (spec.minValue == 0 && spec.maxValue == 1 && integral) return KvParamWidget::Flag;
    if (spec.maxValue <= 1 || !integral) return KvParamWidget::Fraction;
    return KvParamWidget::Integer;
}

QString kvParamTooltip(const KvPolicyInfo& policy, const KvParamSpec& spec) {
    QString text = QStringLiteral("<b>%1</b>: %2").arg(QString::fromStdString(spec.name).toHtmlEscaped(),
                                                      QString::fromStdString(spec.help).toHtmlEscaped());
    if (spec.input) text += tr("<br>Changing it recomputes the policy's inputs from the trace (slower).");
    text += tr("<br>[SRC]: from the paper's code; [RECON]: reconstructed where the paper is silent.");
    return text + tr("<br><i>Source: %1</i>").arg(QString::fromStdString(policy.source).toHtmlEscaped());
}

QString kvPolicyTooltip(const KvPolicyInfo& policy) {
    QString text = QStringLiteral("<b>%1</b>").arg(QString::fromStdString(policy.title).toHtmlEscaped());
    if (policy.precision)
        text += tr("<br>Nothing is evicted: \u201ckept\u201d tokens stay at high precision, the others are quantized.");
    if (!policy.decode) text += tr("<br>No decode simulation: prefill only.");
    return text + tr("<br><i>Source: %1</i>").arg(QString::fromStdString(policy.source).toHtmlEscaped());
}

const KvPolicyInfo* kvFindPolicy(const std::vector<KvPolicyInfo>& policies, const std::string& name) {
    for (const KvPolicyInfo& p : policies)
        if (p.name == name) return &p;
    return nullptr;
}

QString kvParamsLabel(const KvParams& params, const std::vector<KvPolicyInfo>& policies) {
    QString label = QStringLiteral("%1, B %2").arg(QString::fromStdString(params.policy)).arg(params.budget);
    if (params.mode == KvMode::Decode) label += tr(", decode");
    const KvPolicyInfo* info = kvFindPolicy(policies, params.policy);
    for (const auto& [name, value] : params.values) {
        const KvParamSpec* spec = nullptr;
        if (info)
            for (const KvParamSpec& s : info->params)
                if (s.name == name) spec = &s;
        if (spec && value == spec->defaultValue) continue;  // only what differs from the defaults
        const QString shown = spec && !spec->choices.empty() && value >= 0 && value < double(spec->choices.size())
                                  ? QString::fromStdString(spec->choices[size_t(value)])
                                  : QString::number(value);
        label += QStringLiteral(", %1 %2").arg(QString::fromStdString(name), shown);
    }
    return label;
}

QString kvCellText(const KvSelection& sel, const KvMapRow& row, int64_t key, int64_t query, float value,
                   const QString& tokenText) {
    QString where = row.head < 0 ? tr("layer %1").arg(row.layer) : tr("layer %1, head %2").arg(row.layer).arg(row.head);
    QString text = tr("token %1 %2, %3").arg(key).arg(tokenText.toHtmlEscaped(), where);
    if (std::isnan(value)) return text + tr("<br>not generated yet at query %1").arg(query);
    const QString kept = sel.precision ? tr("high precision (%1 bit)").arg(sel.highBits) : tr("kept");
    const QString evicted = sel.precision ? tr("low precision (%1 bit)").arg(sel.lowBits) : tr("evicted");
    if (row.head >= 0) return text + QStringLiteral("<br>") + (value > 0.5f ? kept : evicted);
    return text + tr("<br>%1 of %2 query heads: %3").arg(int(std::lround(value * sel.nHeads))).arg(sel.nHeads).arg(kept);
}

QString kvSummary(const KvSelection& sel, const KvLocalMetrics& m) {
    // kvGranularityName lives in core.
    const QString gran = sel.granularity == KvGranularity::QueryHead ? tr("per query head")
                         : sel.granularity == KvGranularity::KvHead  ? tr("per KV head")
                                                                     : tr("per layer");
    int64_t lo = sel.T, hi = 0;
    for (int64_t b : sel.layerBudget) {
        lo = std::min(lo, b);
        hi = std::max(hi, b);
    }
    const QString kept = sel.layerBudget.empty() ? QStringLiteral("?")
                         : lo == hi              ? QString::number(lo)
                                                 : QStringLiteral("%1\u2013%2").arg(lo).arg(hi);
    QString text = tr("%1 decisions %2; %3 of %4 prompt tokens %5 per head")
                       .arg(QString::fromStdString(sel.policy), gran, kept)
                       .arg(sel.promptLength)
                       .arg(sel.precision ? tr("at high precision") : tr("kept"));
    if (!m.layers.empty())
        text += tr("; mean \u03c1 %1, output rel. error %2 over %3 continuation queries")
                    .arg(m.retainedMass, 0, 'f', 4)
                    .arg(m.outputRelErr, 0, 'f', 4)
                    .arg(m.queries);
    return text;
}

QString kvEndToEndText(const KvEndToEnd& e) {
    if (e.steps == 0) return tr("no continuation to evaluate");
    return tr("KL %1 nats \u00b7 top-1 %2% \u00b7 ppl %3 (full cache %4) over %5 tokens")
        .arg(e.kl, 0, 'g', 3)
        .arg(e.top1 * 100, 0, 'f', 1)
        .arg(e.ppl, 0, 'f', 2)
        .arg(e.pplFull, 0, 'f', 2)
        .arg(e.steps);
}

}  // namespace attnscope::widgets
