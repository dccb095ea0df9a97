#include "models/quant_views.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QObject>

#include "models/help_text.h"

namespace attnscope::widgets {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const QStringList kComponentOrder = {QStringLiteral("q"),    QStringLiteral("k"),  QStringLiteral("v"),
                                     QStringLiteral("o"),    QStringLiteral("gate"), QStringLiteral("up"),
                                     QStringLiteral("down")};

const ReconCurve* findCurve(const QuantLabView& lab, size_t matrix, ReconMethod method) {
    if (matrix >= lab.curves.size()) return nullptr;
    for (const ReconCurve& c : lab.curves[matrix])
        if (c.method == method) return &c;
    return nullptr;
}

double errorOf(const ErrorAt& e, QuantErrorKind kind) {
    return kind == QuantErrorKind::Weight ? e.weightRelErr : e.outputRelErr;
}

const HelpText kQuantHelps[] = {
    {"scheme",
     QT_TRANSLATE_NOOP("QObject",
                       "Weight quantizer. rtn-sym / rtn-asym: round-to-nearest with the GPTQ/RSQ WeightQuantizer "
                       "formulas, per output row or per group of consecutive input channels. mxint: shared "
                       "power-of-two exponent per block of 32 (MX spec, as in QERA). nf4: normal-float code book "
                       "(QLoRA, Dettmers et al. 2023) per block of 64.")},
    {"group",
     QT_TRANSLATE_NOOP("QObject",
                       "Input channels that share one scale. 0 = the scheme's default (rtn: one group per output "
                       "row; mxint 32; nf4 64).")},
    {"rank",
     QT_TRANSLATE_NOOP("QObject",
                       "Rank k of the low-rank error correction \u0174 = Q(W) + (A_k B_k)\u1d40. Every rank is "
                       "precomputed from one SVD per method, so dragging redraws from tables.")},
    {"method",
     QT_TRANSLATE_NOOP("QObject",
                       "Error reconstruction SVD(S\u00b7E\u1d40), A = S\u207b\u00b9U_k, B = \u03a3_kV_k\u1d40 "
                       "(reference \u00a72.1). LoRC: S = I (ZeroQuant-V2, Yao et al. 2023). LQER: S = "
                       "diag(mean|x|), normalised (Zhang et al., ICML 2024). QERA-approx: S = diag(\u221aE[x\u00b2]); "
                       "QERA-exact: S = R^\u00bd, the output-error optimum (Zhang et al., QERA, ICLR 2025).")},
    {"error",
     QT_TRANSLATE_NOOP("QObject",
                       "Weight error \u2016W\u2212\u0174\u2016_F/\u2016W\u2016_F, or output error "
                       "\u221a(tr(E R E\u1d40)/tr(W R W\u1d40)) with R = X\u1d40X/N from the prompt (calibration): "
                       "the relative error of the layer's output x\u0174\u1d40 on that data.")},
    {"bars",
     QT_TRANSLATE_NOOP("QObject",
                       "Mean relative error per layer for two methods side by side (the rank slider sets the "
                       "rank of both). Click a bar to select that layer's matrix.")},
    {"curves",
     QT_TRANSLATE_NOOP("QObject",
                       "Error against rank for every reconstruction of the selected matrix. On the calibration "
                       "statistics QERA-exact's output error is the lowest at every rank (Eckart\u2013Young on "
                       "R^\u00bdE\u1d40); LoRC is the weight-error optimum.")},
    {"evaluate",
     QT_TRANSLATE_NOOP("QObject",
                       "Quantize every linear layer with method B at the slider's rank and compare the "
                       "fake-quantized model with the original on the prompt: perplexity and mean next-token "
                       "KL(P_fp \u2016 P_quant).")},
    {"kv",
     QT_TRANSLATE_NOOP("QObject",
                       "KV-cache quantizers at the stated bits (reference \u00a73). KIVI: keys per channel, values "
                       "per token, full-precision recent window (Liu et al., ICML 2024). Hadamard: rotation before "
                       "quantizing (QuaRot, Ashkboos et al. 2024). OSCAR: attention-aware covariance rotation with "
                       "clipping, BF16 sink and recent windows. ZipCache: saliency-driven 2/4-bit split (He et al., "
                       "NeurIPS 2024). SageAttention2 (Zhang et al., arXiv 2411.10958): INT8/INT4 Q and K for "
                       "QK\u1d40.")},
    {"smoothing",
     QT_TRANSLATE_NOOP("QObject",
                       "SageAttention2's smoothing. K: subtract the sequence mean of K (softmax-invariant, the "
                       "row bias q\u00b7k\u0304 is added back). Q: subtract each block's mean of Q and add "
                       "q\u0304K\u1d40 back in high precision.")},
    {"tokens",
     QT_TRANSLATE_NOOP("QObject",
                       "Which tokens carry the quantization error, per layer. Dashed columns are attention sinks "
                       "(the sinks analysis on this prompt): their huge keys and the attention they draw make "
                       "their error matter most.")},
    {"headmap",
     QT_TRANSLATE_NOOP("QObject",
                       "|\u015c \u2212 S| for the selected head: exact logits S = q k\u1d40/\u221ad against those "
                       "from the quantized cache (or quantized Q/K). Grey above the diagonal: masked.")},
};

}  // namespace

int QuantLabView::nLayers() const {
    int n = 0;
    for (const QuantMatrix& m : matrices) n = std::max(n, m.layer + 1);
    return n;
}

int QuantLabView::maxRank(size_t matrix) const {
    int r = 0;
    if (matrix < curves.size())
        for (const ReconCurve& c : curves[matrix]) r = std::max(r, int(c.outputRelErr.size()) - 1);
    return r;
}

int QuantLabView::maxRank() const {
    int r = 0;
    for (size_t i = 0; i < curves.size(); ++i) r = std::max(r, maxRank(i));
    return r;
}

QString reconMethodLabel(ReconMethod m) {
    switch (m) {
    case ReconMethod::None: return QObject::tr("RTN only");
    case ReconMethod::Lorc: return QStringLiteral("LoRC");
    case ReconMethod::Lqer: return QStringLiteral("LQER");
    case ReconMethod::QeraApprox: return QStringLiteral("QERA-approx");
    case ReconMethod::QeraExact: return QStringLiteral("QERA-exact");
    }
    return {};
}

double quantError(const QuantLabView& lab, size_t matrix, ReconMethod method, int rank, QuantErrorKind kind) {
    if (matrix >= lab.quantOnly.size()) return kNaN;
    if (method == ReconMethod::None) return errorOf(lab.quantOnly[matrix], kind);
    const ReconCurve* c = findCurve(lab, matrix, method);
    if (!c) return kNaN;
    const std::vector<double>& v = kind == QuantErrorKind::Weight ? c->weightRelErr : c->outputRelErr;
    if (v.empty()) return kNaN;
    return v[size_t(std::clamp(rank, 0, int(v.size()) - 1))];
}

std::vector<double> quantLayerErrors(const QuantLabView& lab, ReconMethod method, int rank, QuantErrorKind kind,
                                     const QString& component) {
    const int L = lab.nLayers();
    std::vector<double> sum(size_t(L), 0.0);
    std::vector<int> count(size_t(L), 0);
    for (size_t i = 0; i < lab.matrices.size(); ++i) {
        const QuantMatrix& m = lab.matrices[i];
        if (!component.isEmpty() && QString::fromStdString(m.component) != component) continue;
        const double e = quantError(lab, i, method, rank, kind);
        if (!std::isfinite(e) || m.layer < 0) continue;
        sum[size_t(m.layer)] += e;
        ++count[size_t(m.layer)];
    }
    for (int l = 0; l < L; ++l) sum[size_t(l)] = count[size_t(l)] ? sum[size_t(l)] / count[size_t(l)] : kNaN;
    return sum;
}

std::vector<double> quantRankCurve(const QuantLabView& lab, size_t matrix, ReconMethod method, QuantErrorKind kind) {
    if (method == ReconMethod::None) {
        if (matrix >= lab.quantOnly.size()) return {};
        return std::vector<double>(size_t(lab.maxRank(matrix)) + 1, errorOf(lab.quantOnly[matrix], kind));
    }
    const ReconCurve* c = findCurve(lab, matrix, method);
    if (!c) return {};
    return kind == QuantErrorKind::Weight ? c->weightRelErr : c->outputRelErr;
}

QStringList quantComponents(const QuantLabView& lab) {
    QStringList present;
    for (const QString& c : kComponentOrder)
        for (const QuantMatrix& m : lab.matrices)
            if (QString::fromStdString(m.component) == c) {
                present << c;
                break;
            }
    return present;
}

int findQuantMatrix(const QuantLabView& lab, int layer, const QString& component) {
    for (size_t i = 0; i < lab.matrices.size(); ++i)
        if (lab.matrices[i].layer == layer && QString::fromStdString(lab.matrices[i].component) == component)
            return int(i);
    return -1;
}

QString quantMatrixLabel(const QuantMatrix& m) {
    return QStringLiteral("L%1 %2  %3\u00d7%4")
        .arg(m.layer)
        .arg(QString::fromStdString(m.component))
        .arg(m.rows)
        .arg(m.cols);
}

QString tokenErrorLabel(TokenErrorKind kind) {
    switch (kind) {
    case TokenErrorKind::QueryOutput: return QObject::tr("attention-output rel. error of the query");
    case TokenErrorKind::KeyShare: return QObject::tr("share of the layer's score error (key column)");
    case TokenErrorKind::KeyRelErr: return QObject::tr("key rel. error \u2016k\u0302\u2212k\u2016/\u2016k\u2016");
    case TokenErrorKind::ValueRelErr: return QObject::tr("value rel. error \u2016v\u0302\u2212v\u2016/\u2016v\u2016");
    }
    return {};
}

Matrix2D tokenErrorMap(const AttnQuantResult& r, TokenErrorKind kind) {
    Matrix2D m;
    m.rows = r.nLayers;
    m.cols = r.T;
    m.data.assign(size_t(m.rows * m.cols), std::numeric_limits<float>::quiet_NaN());
    for (int l = 0; l < r.nLayers && size_t(l) < r.tokens.size(); ++l) {
        const TokenErrors& t = r.tokens[size_t(l)];
        const std::vector<float>& v = kind == TokenErrorKind::QueryOutput ? t.queryOutErr
                                      : kind == TokenErrorKind::KeyShare  ? t.keyShare
                                      : kind == TokenErrorKind::KeyRelErr ? t.keyRelErr
                                                                          : t.valueRelErr;
        for (int64_t j = 0; j < r.T && size_t(j) < v.size(); ++j) m.data[size_t(l * r.T + j)] = v[size_t(j)];
    }
    return m;
}

QString kvSummaryText(const AttnQuantResult& r) {
    double score = 0, kl = 0, out = 0;
    for (const HeadError& h : r.heads) {
        score += h.scoreRelErr;
        kl += h.klMean;
        out += h.outRelErr;
    }
    const double n = std::max<double>(1.0, double(r.heads.size()));
    QString bits = r.bitsQ > 0 ? QObject::tr("Q %1, K %2 bits/element").arg(r.bitsQ, 0, 'f', 2).arg(r.bitsK, 0, 'f', 2)
                               : QObject::tr("K %1, V %2 bits/element").arg(r.bitsK, 0, 'f', 2).arg(r.bitsV, 0, 'f', 2);
    return QObject::tr("%1 on %2 tokens: effective %3 \u00b7 mean over heads: score rel. err %4, row KL %5 nats, "
                       "output rel. err %6")
        .arg(QString::fromStdString(r.method)).arg(r.T).arg(bits)
        .arg(score / n, 0, 'f', 4).arg(kl / n, 0, 'g', 3).arg(out / n, 0, 'f', 4);
}

QString quantHelp(const char* which) { return lookUpHelp(kQuantHelps, "QObject", which); }

}  // namespace attnscope::widgets
