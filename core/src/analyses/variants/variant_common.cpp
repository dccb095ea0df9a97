// The attention variants' registry, parameters, shared pieces and the metrics against softmax.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

#include "analyses/variants/variant_detail.h"
#include "attnscope/error.h"
#include "attnscope/options.h"
#include "model/model_access.h"
#include "model/model_impl.h"  // guardTorch
#include "trace/trace_impl.h"

namespace attnscope {

int64_t& variantBlockElements() {
    static int64_t elements = int64_t(1) << 22;
    return elements;
}

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
        VariantHeadOutput out;
        out.o.reserve(size_t(in.T * in.dv));
        out.map.reserve(size_t(in.T * in.T));
        std::vector<at::Tensor> curves;
        bool overKeys = false;
        variants::forEachVariantBlock(name, params, h, [&](const variants::HeadTensors&, variants::VariantTensors& r) {
            for (auto [to, t] :
                 {std::pair{&out.o, r.o}, {&out.map, r.w}, {&out.rowEntropy, variants::rowEntropy(r.w)}}) {
                const std::vector<double> x = toVector(t);
                to->insert(to->end(), x.begin(), x.end());
            }
            if (r.curve.defined()) curves.push_back(r.curve);
            overKeys = r.curveOverKeys;
            out.curveName = r.curveName;
            out.note = r.note;
        });
        if (!curves.empty()) out.rowCurve = toVector(overKeys ? at::stack(curves).sum(0) : at::cat(curves, 0));
        return out;
    });
}

VariantHeadMetrics compareVariant(const VariantHeadOutput& softmax, const VariantHeadOutput& variant, int64_t T,
                                  int dv) {
    return guardTorch([&] {
        at::NoGradGuard noGrad;
        const at::Tensor P = tensorOf(softmax.map, T, T, "softmax map"), W = tensorOf(variant.map, T, T, "variant map");
        variants::MetricRows rows;
        rows.add(P, W, tensorOf(softmax.o, T, dv, "softmax output"), tensorOf(variant.o, T, dv, "variant output"));
        VariantHeadMetrics m = rows.finish();
        std::tie(m.effectiveRank, m.stableRank) = variants::mapRanks(W);  // SVDs of the T x T maps
        std::tie(m.softmaxEffectiveRank, m.softmaxStableRank) = variants::mapRanks(P);
        return m;
    });
}

namespace variants {

const std::string& Params::choice(const std::string& name) const {
    const VariantParamSpec& spec = specOf(m_info, name);
    return spec.choices.at(size_t(std::clamp<int>(integer(name), 0, int(spec.choices.size()) - 1)));
}

namespace {

at::Tensor visibleRows(int64_t r0, int64_t r1, int64_t T, int window) {
    const at::Tensor i = at::arange(r0, r1, at::kLong).unsqueeze(1), j = at::arange(T, at::kLong).unsqueeze(0);
    at::Tensor v = j <= i;
    if (window > 0) v = v & (j > i - window);
    return v;
}

}  // namespace

HeadTensors headTensors(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& qPre,
                        const at::Tensor& kPre, double scale, int window) {
    auto f64 = [](const at::Tensor& t) { return t.detach().to(at::kCPU, at::kDouble).contiguous(); };
    HeadTensors h;
    h.T = q.size(0);
    h.r0 = 0;
    h.r1 = h.T;
    h.q = f64(q);
    h.k = f64(k);
    h.v = f64(v);
    h.qPre = qPre.defined() ? f64(qPre) : h.q;
    h.kPre = kPre.defined() ? f64(kPre) : h.k;
    h.scale = scale;
    h.window = window;
    h.visible = visibleRows(0, h.T, h.T, window);
    return h;
}

HeadTensors HeadTensors::block(int64_t a, int64_t b) const {
    HeadTensors h = *this;
    h.r0 = a;
    h.r1 = b;
    h.visible = a == r0 && b == r1 ? visible : visibleRows(a, b, T, window);
    return h;
}

at::Tensor HeadTensors::queryIndex() const { return at::arange(r0, r1, at::kLong).unsqueeze(1); }
at::Tensor HeadTensors::keyIndex() const { return at::arange(T, at::kLong).unsqueeze(0); }

const std::vector<at::Tensor>& HeadTensors::cached(const std::string& key,
                                                   const std::function<std::vector<at::Tensor>()>& make) const {
    if (!cache) fail(ErrorKind::Internal, "variants: a block without its cache");
    auto it = cache->tensors.find(key);
    if (it == cache->tensors.end()) it = cache->tensors.emplace(key, make()).first;
    return it->second;
}

VariantTensors runVariant(const std::string& name, const VariantParams& params, const HeadTensors& in) {
    const VariantEntry& entry = entryOf(name);
    HeadTensors h = in;
    if (!h.cache) h.cache = std::make_shared<VariantCache>();
    VariantTensors r = entry.compute(h, Params(entry.info, params));
    r.w = r.w.masked_fill(h.visible.logical_not(), 0.0);
    return r;
}

int64_t variantBlockRows(int64_t T) {
    return std::clamp<int64_t>(variantBlockElements() / std::max<int64_t>(1, T), 1, std::max<int64_t>(1, T));
}

void forEachVariantBlock(const std::string& name, const VariantParams& params, const HeadTensors& head,
                         const std::function<void(const HeadTensors&, VariantTensors&)>& visit,
                         const std::function<void()>& check, int64_t from, int64_t to) {
    HeadTensors all = head;
    all.cache = std::make_shared<VariantCache>();
    const int64_t step = variantBlockRows(head.T), end = to < 0 ? head.T : std::min(to, head.T);
    for (int64_t a = std::max<int64_t>(0, from); a < end; a += step) {
        if (check) check();
        const HeadTensors b = all.block(a, std::min(end, a + step));
        VariantTensors r = runVariant(name, params, b);
        visit(b, r);
    }
}

at::Tensor variantOutput(const std::string& name, const VariantParams& params, const HeadTensors& head) {
    std::vector<at::Tensor> parts;
    forEachVariantBlock(name, params, head, [&](const HeadTensors&, VariantTensors& r) { parts.push_back(r.o); });
    return at::cat(parts, 0);
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

at::Tensor scores(const HeadTensors& in) { return in.rowsOf(in.q).mm(in.k.t()) * in.scale; }

at::Tensor maskedSoftmax(const at::Tensor& s, const HeadTensors& in, const at::Tensor& keep, bool diagonal) {
    at::Tensor allowed = keep.defined() ? (keep & in.visible) : in.visible;
    if (diagonal) allowed = allowed | (in.keyIndex() == in.queryIndex());
    const at::Tensor w = at::softmax(s.masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity()), 1);
    return w.masked_fill(allowed.logical_not(), 0.0);
}

VariantTensors fromMap(const at::Tensor& w, const HeadTensors& in) {
    VariantTensors r;
    r.w = w;
    r.o = w.mm(in.v);
    return r;
}

VariantTensors withCurve(VariantTensors&& r, const at::Tensor& curve, const char* name, bool overKeys) {
    r.curve = curve;
    r.curveName = name;
    r.curveOverKeys = overKeys;
    return std::move(r);
}

VariantTensors linearAttention(const at::Tensor& phiQ, const at::Tensor& phiK, const HeadTensors& in, double eps) {
    VariantTensors r;
    const at::Tensor fq = in.rowsOf(phiQ);
    const at::Tensor e = fq.mm(phiK.t()).masked_fill(in.visible.logical_not(), 0.0);  // [rows, T]
    const at::Tensor den = e.sum(1);
    r.w = (e / den.unsqueeze(1)).masked_fill((den <= 0).unsqueeze(1), 0.0);
    if (in.window > 0) {
        r.o = e.mm(in.v) / (den + eps).unsqueeze(1);
    } else {  // chunked prefix sums: S = Σ φ(k_j) v_jᵀ and z = Σ φ(k_j) carried between chunks
        constexpr int64_t kChunk = 128;
        const at::Tensor before = phiK.slice(0, 0, in.r0);  // every key ahead of the block
        at::Tensor S = before.t().mm(in.v.slice(0, 0, in.r0)), z = before.sum(0);
        std::vector<at::Tensor> parts;
        for (int64_t c0 = in.r0; c0 < in.r1; c0 += kChunk) {
            const int64_t c1 = std::min(in.r1, c0 + kChunk);
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
    return withCurve(std::move(r), den, "denominator φ(q_i)·Σφ(k_j)");
}

at::Tensor topKeys(const at::Tensor& rank, const HeadTensors& in, int64_t k) {
    // The k-th largest value of each row (topk, no full sort), then every larger key and as many
    // keys equal to it as are still wanted, the lower j first.
    const at::Tensor r = rank.masked_fill(in.visible.logical_not(), -std::numeric_limits<double>::infinity());
    const int64_t kk = std::clamp<int64_t>(k, 1, in.T);
    const at::Tensor kth = std::get<0>(std::get<0>(r.topk(kk, 1, true, false)).min(1, true));
    const at::Tensor greater = r > kth, equal = r == kth;
    const at::Tensor wanted = kk - greater.sum(1, true);
    return (greater | (equal & (equal.to(at::kLong).cumsum(1) <= wanted))) & in.visible;
}

at::Tensor rowEntropy(const at::Tensor& w) {
    const at::Tensor a = w.abs();
    const at::Tensor p = a / a.sum(1, true).clamp_min(1e-300);
    return -(p * p.clamp_min(1e-300).log()).sum(1);
}

std::pair<double, double> mapRanks(const at::Tensor& w) {
    // Singular values in float32: half the time of float64, and ranks need no more digits.
    const at::Tensor s = at::linalg_svdvals(w.to(at::kFloat)).to(at::kDouble);
    const double total = s.sum().item<double>(), top = s.max().item<double>();
    if (!(total > 0)) return {0.0, 0.0};
    const at::Tensor p = s / total;
    const double h = -(p * p.clamp_min(1e-300).log()).sum().item<double>();
    return {std::exp(h), (s * s).sum().item<double>() / (top * top)};
}

std::pair<at::Tensor, at::Tensor> MetricRows::add(const at::Tensor& P, const at::Tensor& W, const at::Tensor& O,
                                                  const at::Tensor& O2) {
    const at::Tensor diff = O2 - O;
    m_diff2 += diff.pow(2).sum().item<double>();
    m_o2 += O.pow(2).sum().item<double>();
    m_v2 += O2.pow(2).sum().item<double>();
    m_dot += (O * O2).sum().item<double>();
    m_rowErr.push_back(diff.norm(2, 1) / (O.norm(2, 1) + 1e-12));
    const at::Tensor a = W.abs(), rs = a.sum(1, true);
    const at::Tensor nonEmpty = rs.squeeze(1) > 0;
    const at::Tensor p = a / rs.clamp_min(1e-300);
    const at::Tensor kl = (p * (p.clamp_min(1e-300).log() - P.clamp_min(1e-300).log())).masked_fill(p <= 0, 0.0).sum(1);
    const at::Tensor tv = 0.5 * (p - P).abs().sum(1);
    m_live += nonEmpty.sum().item<int64_t>();
    m_rows += W.size(0);
    m_kl += kl.masked_select(nonEmpty).sum().item<double>();
    m_tv += tv.masked_select(nonEmpty).sum().item<double>();
    const at::Tensor entropy = -(p * p.clamp_min(1e-300).log()).sum(1), softmaxEntropy = rowEntropy(P);
    m_entropy += entropy.sum().item<double>();
    m_softmaxEntropy += softmaxEntropy.sum().item<double>();
    m_kept += (P * (W != 0)).sum().item<double>();
    m_neg += W.clamp_max(0).sum().item<double>();
    m_sink += p.select(1, 0).sum().item<double>();
    m_softmaxSink += P.select(1, 0).sum().item<double>();
    return {softmaxEntropy, entropy};
}

VariantHeadMetrics MetricRows::finish() const {
    VariantHeadMetrics m;
    if (m_rows == 0) return m;
    const double n = double(m_rows);
    const double on = std::sqrt(m_o2), vn = std::sqrt(m_v2);
    m.outputRelErr = on > 0 ? std::sqrt(m_diff2) / on : 0.0;
    const at::Tensor rows = at::cat(m_rowErr, 0);
    m.rowRelErrMean = rows.mean().item<double>();
    m.rowRelErrMax = rows.max().item<double>();
    const at::Tensor sorted = std::get<0>(rows.sort());
    m.rowRelErrP95 = sorted[std::min<int64_t>(m_rows - 1, int64_t(std::ceil(0.95 * n)) - 1)].item<double>();
    m.cosine = on > 0 && vn > 0 ? m_dot / (on * vn) : 0.0;
    m.zeroRows = m_rows - m_live;
    const double live = std::max<double>(1.0, double(m_live));
    m.rowKlMean = m_kl / live;
    m.rowTvMean = m_tv / live;
    m.entropy = m_entropy / n;
    m.softmaxEntropy = m_softmaxEntropy / n;
    m.entropyGap = m.entropy - m.softmaxEntropy;
    m.keptMass = m_kept / n;
    m.negMass = m_neg / n;
    m.sinkMass = m_sink / n;
    m.softmaxSinkMass = m_softmaxSink / n;
    return m;
}

double medianOf(const at::Tensor& x) { return x.flatten().median().item<double>(); }

}  // namespace variants
}  // namespace attnscope
