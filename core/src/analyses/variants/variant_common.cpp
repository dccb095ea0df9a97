// The attention variants' registry, parameters, shared pieces and the metrics against softmax.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

#include "analyses/variants/variant_detail.h"
#include "analyses/variants/variants_lab.h"
#include "attnscope/error.h"
#include "attnscope/options.h"
#include "model/model_access.h"
#include "model/model_impl.h"  // guardTorch
#include "trace/trace_impl.h"

namespace attnscope {
namespace {

const std::vector<const variants::VariantEntry*>& entries() {
#define ATTNSCOPE_VARIANT_ENTRY(name) &variants::name##Variant(),
    static const std::vector<const variants::VariantEntry*> all = {ATTNSCOPE_VARIANTS(ATTNSCOPE_VARIANT_ENTRY)};
#undef ATTNSCOPE_VARIANT_ENTRY
    return all;
}

const variants::VariantEntry& entryOf(const std::string& name) {
    for (const auto* e : entries())
        if (e->info.name == name) return *e;
    std::string names;
    for (const auto* e : entries()) names += (names.empty() ? "" : ", ") + e->info.name;
    fail(ErrorKind::BadInput, "unknown attention variant '" + name + "' (known: " + names + ")");
}

const VariantParamSpec& specOf(const VariantInfo& info, const std::string& name) {
    for (const auto& p : info.params)
        if (p.name == name) return p;
    std::string names;
    for (const auto& p : info.params) names += (names.empty() ? "" : ", ") + p.name;
    fail(ErrorKind::BadInput, "variant " + info.name + " has no parameter '" + name + "'" +
                                  (names.empty() ? std::string(" (it has none)") : " (it has: " + names + ")"));
}

std::vector<double> toVector(const at::Tensor& t) {
    if (!t.defined()) return {};
    const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
    return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

at::Tensor tensorOf(const std::vector<double>& x, int64_t rows, int64_t cols, const char* what) {
    if (int64_t(x.size()) != rows * cols)
        fail(ErrorKind::BadInput, std::string("variant input ") + what + ": expected " + std::to_string(rows * cols) +
                                      " values, got " + std::to_string(x.size()));
    return at::from_blob(const_cast<double*>(x.data()), {rows, cols}, at::kDouble).clone();
}

// Row entropy of p = |W| / Σ|W| (nats); 0 for an empty row.
at::Tensor rowEntropy(const at::Tensor& w) {
    const at::Tensor a = w.abs();
    const at::Tensor p = a / a.sum(1, true).clamp_min(1e-300);
    return -(p * p.clamp_min(1e-300).log()).sum(1);
}

std::pair<double, double> ranks(const at::Tensor& w) {
    // Singular values in float32: half the time of float64, and ranks need no more digits.
    const at::Tensor s = at::linalg_svdvals(w.to(at::kFloat)).to(at::kDouble);
    const double total = s.sum().item<double>(), top = s.max().item<double>();
    if (!(total > 0)) return {0.0, 0.0};
    const at::Tensor p = s / total;
    const double h = -(p * p.clamp_min(1e-300).log()).sum().item<double>();
    return {std::exp(h), (s * s).sum().item<double>() / (top * top)};
}

}  // namespace

const std::vector<VariantInfo>& variantInfos() {
    static const std::vector<VariantInfo> infos = [] {
        std::vector<VariantInfo> out;
        for (const auto* e : entries()) out.push_back(e->info);
        return out;
    }();
    return infos;
}

const VariantInfo& variantInfo(const std::string& name) { return entryOf(name).info; }

VariantParams variantParams(const VariantInfo& info, const std::vector<std::string>& assignments) {
    VariantParams out;
    for (const std::string& a : assignments) {
        const size_t eq = a.find('=');
        if (eq == std::string::npos || eq == 0)
            fail(ErrorKind::BadInput, "variant parameter '" + a + "': expected name=value");
        const std::string name = a.substr(0, eq), text = a.substr(eq + 1);
        const VariantParamSpec& spec = specOf(info, name);
        double value = 0;
        if (!spec.choices.empty()) {
            const auto it = std::find(spec.choices.begin(), spec.choices.end(), text);
            if (it == spec.choices.end()) {
                std::string c;
                for (const auto& s : spec.choices) c += (c.empty() ? "" : "|") + s;
                fail(ErrorKind::BadInput, info.name + ": " + name + " expects " + c);
            }
            value = double(it - spec.choices.begin());
        } else {
            const std::optional<double> v = parseNumber(text);
            if (!v) fail(ErrorKind::BadInput, info.name + ": " + name + " expects a number, got '" + text + "'");
            value = *v;
        }
        if (!(value >= spec.minValue && value <= spec.maxValue)) {
            std::ostringstream msg;
            msg << info.name << ": " << name << " must lie in [" << spec.minValue << ", " << spec.maxValue << "]";
            fail(ErrorKind::BadInput, msg.str());
        }
        out[name] = value;
    }
    return out;
}

double variantParam(const VariantInfo& info, const VariantParams& params, const std::string& name) {
    const VariantParamSpec& spec = specOf(info, name);
    const auto it = params.find(name);
    return it == params.end() ? spec.defaultValue : it->second;
}

std::string variantParamText(const VariantInfo& info, const VariantParams& params) {
    std::ostringstream out;
    out.precision(6);
    for (const auto& spec : info.params) {
        const double v = variantParam(info, params, spec.name);
        out << (out.tellp() > 0 ? " " : "") << spec.name << '=';
        if (!spec.choices.empty())
            out << spec.choices[size_t(std::clamp<double>(v, 0, double(spec.choices.size() - 1)))];
        else out << v;
    }
    return out.str();
}

VariantHeadInput variantHeadInput(const Model& model, const Trace& trace, int layer, int head) {
    const auto* ti = dynamic_cast<const core::TraceImpl*>(&trace);
    if (!ti) fail(ErrorKind::BadInput, "the variants lab needs a trace from Model::run");
    const core::ModelConfig& c = ModelAccess::impl(model).decoder.config();
    if (layer < 0 || layer >= c.nLayers || head < 0 || head >= c.nHeads)
        fail(ErrorKind::BadInput, "variants: no layer " + std::to_string(layer) + " head " + std::to_string(head));
    const core::LayerCapture& cap = ti->layer(layer);
    if (!cap.q.defined() || !cap.k.defined() || !cap.v.defined())
        fail(ErrorKind::NotFound, "the variants lab needs the trace's q, k and v of layer " + std::to_string(layer));
    return guardTorch([&] {
        const int g = head / (c.nHeads / c.nKvHeads);
        auto rows = [](const at::Tensor& t, int h) { return toVector(t.select(1, h)); };
        VariantHeadInput in;
        in.T = cap.q.size(0);
        in.d = int(cap.q.size(2));
        in.dv = int(cap.v.size(2));
        in.q = rows(cap.q, head);
        in.k = rows(cap.k, g);
        in.v = rows(cap.v, g);
        if (c.rope.style != core::RopeStyle::None && cap.qPre.defined() && cap.kPre.defined()) {
            in.qPre = rows(cap.qPre, head);
            in.kPre = rows(cap.kPre, g);
        }
        in.scale = c.logitScale();
        in.window = c.slidingWindow;
        return in;
    });
}

VariantHeadOutput computeVariant(const std::string& name, const VariantParams& params, const VariantHeadInput& in) {
    entryOf(name);  // an unknown name first
    if (in.T < 1 || in.d < 1 || in.dv < 1) fail(ErrorKind::BadInput, "variant input: empty head");
    if (!(in.scale > 0)) fail(ErrorKind::BadInput, "variant input: the logit scale must be > 0");
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const at::Tensor q = tensorOf(in.q, in.T, in.d, "q"), k = tensorOf(in.k, in.T, in.d, "k");
        const variants::HeadTensors h = variants::headTensors(
            q, k, tensorOf(in.v, in.T, in.dv, "v"),
            in.qPre.empty() ? at::Tensor() : tensorOf(in.qPre, in.T, in.d, "q before RoPE"),
            in.kPre.empty() ? at::Tensor() : tensorOf(in.kPre, in.T, in.d, "k before RoPE"), in.scale, in.window);
        const variants::VariantTensors r = variants::runVariant(name, params, h);
        VariantHeadOutput out;
        out.o = toVector(r.o);
        out.map = toVector(r.w);
        out.rowEntropy = toVector(rowEntropy(r.w));
        out.rowCurve = toVector(r.curve);
        out.curveName = r.curveName;
        out.note = r.note;
        return out;
    });
}

std::pair<double, double> variantMapRanks(const VariantHeadOutput& o, int64_t T) {
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        return ranks(tensorOf(o.map, T, T, "map"));
    });
}

VariantHeadMetrics compareVariant(const VariantHeadOutput& softmax, const VariantHeadOutput& variant, int64_t T,
                                  int dv) {
    return compareVariantWith(softmax, variant, T, dv, variantMapRanks(softmax, T), true);
}

VariantHeadMetrics compareVariantWith(const VariantHeadOutput& softmax, const VariantHeadOutput& variant, int64_t T,
                                      int dv, std::pair<double, double> softmaxRanks, bool variantRanks) {
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const at::Tensor P = tensorOf(softmax.map, T, T, "softmax map"), W = tensorOf(variant.map, T, T, "variant map");
        const at::Tensor O = tensorOf(softmax.o, T, dv, "softmax output"),
                         O2 = tensorOf(variant.o, T, dv, "variant output");
        VariantHeadMetrics m;
        const double on = O.norm().item<double>();
        m.outputRelErr = on > 0 ? (O2 - O).norm().item<double>() / on : 0.0;
        const at::Tensor rows = (O2 - O).norm(2, 1) / (O.norm(2, 1) + 1e-12);
        m.rowRelErrMean = rows.mean().item<double>();
        m.rowRelErrMax = rows.max().item<double>();
        const at::Tensor sorted = std::get<0>(rows.sort());
        m.rowRelErrP95 = sorted[std::min<int64_t>(T - 1, int64_t(std::ceil(0.95 * double(T))) - 1)].item<double>();
        const double n2 = O2.norm().item<double>();
        m.cosine = on > 0 && n2 > 0 ? (O * O2).sum().item<double>() / (on * n2) : 0.0;
        const at::Tensor a = W.abs(), rs = a.sum(1, true);
        const at::Tensor nonEmpty = (rs.squeeze(1) > 0);
        m.zeroRows = T - nonEmpty.sum().item<int64_t>();
        const at::Tensor p = a / rs.clamp_min(1e-300);
        const at::Tensor kl =
            (p * (p.clamp_min(1e-300).log() - P.clamp_min(1e-300).log())).masked_fill(p <= 0, 0.0).sum(1);
        const at::Tensor tv = 0.5 * (p - P).abs().sum(1);
        const double live = std::max<double>(1.0, double(nonEmpty.sum().item<int64_t>()));
        m.rowKlMean = kl.masked_select(nonEmpty).sum().item<double>() / live;
        m.rowTvMean = tv.masked_select(nonEmpty).sum().item<double>() / live;
        m.entropy = rowEntropy(W).mean().item<double>();
        m.softmaxEntropy = rowEntropy(P).mean().item<double>();
        m.entropyGap = m.entropy - m.softmaxEntropy;
        if (variantRanks) std::tie(m.effectiveRank, m.stableRank) = ranks(W);  // an SVD of the T x T map
        std::tie(m.softmaxEffectiveRank, m.softmaxStableRank) = softmaxRanks;
        m.keptMass = (P * (W != 0)).sum(1).mean().item<double>();
        m.negMass = W.clamp_max(0).sum(1).mean().item<double>();
        m.sinkMass = p.select(1, 0).mean().item<double>();
        m.softmaxSinkMass = P.select(1, 0).mean().item<double>();
        return m;
    });
}

namespace variants {

const std::string& Params::choice(const std::string& name) const {
    const VariantParamSpec& spec = specOf(m_info, name);
    return spec.choices.at(size_t(std::clamp<int>(integer(name), 0, int(spec.choices.size()) - 1)));
}

HeadTensors headTensors(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& qPre,
                        const at::Tensor& kPre, double scale, int window) {
    auto f64 = [](const at::Tensor& t) { return t.detach().to(at::kCPU, at::kDouble).contiguous(); };
    HeadTensors h;
    h.T = q.size(0);
    h.q = f64(q);
    h.k = f64(k);
    h.v = f64(v);
    h.qPre = qPre.defined() ? f64(qPre) : h.q;
    h.kPre = kPre.defined() ? f64(kPre) : h.k;
    h.scale = scale;
    h.window = window;
    const at::Tensor i = at::arange(h.T, at::kLong).unsqueeze(1), j = at::arange(h.T, at::kLong).unsqueeze(0);
    h.visible = j <= i;
    if (window > 0) h.visible = h.visible & (j > i - window);
    return h;
}

VariantTensors runVariant(const std::string& name, const VariantParams& params, const HeadTensors& in) {
    const VariantEntry& entry = entryOf(name);
    VariantTensors r = entry.compute(in, Params(entry.info, params));
    r.w = r.w.masked_fill(in.visible.logical_not(), 0.0);
    return r;
}

VariantParamSpec ropeParam(int defaultIndex) {
    return {"rope_mode",
            double(defaultIndex),
            0,
            1,
            ropeChoices(),
            "post: q, k after RoPE, as the model scored them; pre: before RoPE (kernels cannot carry RoPE "
            "through φ exactly) [RECON]"};
}

std::pair<at::Tensor, at::Tensor> qkFor(const HeadTensors& in, const Params& p) {
    if (p.choice("rope_mode") == "pre") return {in.qPre, in.kPre};
    return {in.q, in.k};
}

at::Tensor scores(const HeadTensors& in) { return in.q.mm(in.k.t()) * in.scale; }

at::Tensor maskedSoftmax(const at::Tensor& s, const HeadTensors& in, const at::Tensor& keep, bool diagonal) {
    at::Tensor allowed = keep.defined() ? (keep & in.visible) : in.visible;
    if (diagonal) allowed = allowed | at::eye(in.T, at::kBool);
    const at::Tensor w = at::softmax(s.masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity()), 1);
    return w.masked_fill(allowed.logical_not(), 0.0);
}

VariantTensors fromMap(const at::Tensor& w, const HeadTensors& in) {
    VariantTensors r;
    r.w = w;
    r.o = w.mm(in.v);
    return r;
}

VariantTensors linearAttention(const at::Tensor& phiQ, const at::Tensor& phiK, const HeadTensors& in, double eps) {
    VariantTensors r;
    const at::Tensor e = phiQ.mm(phiK.t()).masked_fill(in.visible.logical_not(), 0.0);  // [T, T]
    const at::Tensor den = e.sum(1);
    r.w = (e / den.unsqueeze(1)).masked_fill((den <= 0).unsqueeze(1), 0.0);
    if (in.window > 0) {
        r.o = e.mm(in.v) / (den + eps).unsqueeze(1);
    } else {  // chunked prefix sums: S = Σ φ(k_j) v_jᵀ and z = Σ φ(k_j) carried between chunks
        constexpr int64_t kChunk = 128;
        const int64_t m = phiQ.size(1);
        at::Tensor S = at::zeros({m, in.v.size(1)}, in.v.options()), z = at::zeros({m}, in.v.options());
        std::vector<at::Tensor> parts;
        for (int64_t c0 = 0; c0 < in.T; c0 += kChunk) {
            const int64_t c1 = std::min(in.T, c0 + kChunk);
            const at::Tensor q = phiQ.slice(0, c0, c1), k = phiK.slice(0, c0, c1), v = in.v.slice(0, c0, c1);
            const at::Tensor local = q.mm(k.t()).tril();
            const at::Tensor num = local.mm(v) + q.mm(S);
            const at::Tensor d = local.sum(1) + q.mv(z);
            parts.push_back(num / (d + eps).unsqueeze(1));
            S = S + k.t().mm(v);
            z = z + k.sum(0);
        }
        r.o = at::cat(parts, 0);
    }
    r.o = r.o.masked_fill((den <= 0).unsqueeze(1), 0.0);
    r.curve = den;
    r.curveName = "denominator φ(q_i)·Σφ(k_j)";
    return r;
}

at::Tensor topKeys(const at::Tensor& rank, const HeadTensors& in, int64_t k) {
    const at::Tensor r = rank.masked_fill(in.visible.logical_not(), -std::numeric_limits<double>::infinity());
    const at::Tensor order = std::get<1>(r.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
    const at::Tensor place =
        at::empty_like(order).scatter_(1, order, at::arange(in.T, at::kLong).expand_as(order).contiguous());
    return (place < k) & in.visible;
}

double medianOf(const at::Tensor& x) { return x.flatten().median().item<double>(); }

}  // namespace variants
}  // namespace attnscope
