// Low-rank reconstruction of the quantization error (reference §2.1–§2.2, [SRC] QERA
// approximate.py): for a scale S, SVD(S·Eᵀ) = UΣVᵀ, A = S⁻¹U_k, B = Σ_kV_kᵀ, Ŵ = Q(W) + (AB)ᵀ.
// One SVD per method; every rank's weight and output error then follows from prefix sums,
// because V's columns are orthonormal:
//   ‖Eᵀ − Σ_{j<k} σ_j p_j v_jᵀ‖²_M = ‖Eᵀ‖²_M − 2Σ σ_j p_jᵀ M Eᵀv_j + Σ σ_j² p_jᵀ M p_j
// with p_j = S⁻¹u_j and M = I (weight error) or R (output error, tr(E R Eᵀ)).
// Float64 throughout, on the CPU or (ReconParams::device) CUDA; curves come back to the host.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "attnscope/analyses/quant.h"
#include "attnscope/enum_names.h"
#include "attnscope/error.h"

namespace attnscope {

namespace {

at::Tensor fromMatrix(const Matrix2D& m) {
    if (m.rows * m.cols != int64_t(m.data.size())) fail(ErrorKind::BadInput, "ReconLab: matrix data does not match its shape");
    return at::from_blob(const_cast<float*>(m.data.data()), {m.rows, m.cols}, at::kFloat).to(at::kDouble);
}

Matrix2D toMatrix(const at::Tensor& t) {
    const at::Tensor f = t.to(at::kCPU, at::kFloat).contiguous();
    Matrix2D m;
    m.rows = f.size(0);
    m.cols = f.size(1);
    m.data.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
    return m;
}

at::Device reconDevice(const std::string& name) {
    if (name.empty() || name == "cpu") return at::Device(at::kCPU);
    if (name != "cuda") fail(ErrorKind::BadInput, "ReconLab: unknown device '" + name + "' (cpu, cuda)");
    if (!at::hasCUDA()) fail(ErrorKind::BadInput, "ReconLab: CUDA is not available in this build or machine");
    return at::Device(at::kCUDA, 0);
}

// A host copy of a 1-D tensor's values.
std::vector<double> hostValues(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
    return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

double ratio(double num, double den) {
    if (den > 0) return std::sqrt(std::max(num, 0.0) / den);
    return num > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

}  // namespace

namespace {

constexpr EnumName<ReconMethod> kReconNames[] = {{ReconMethod::None, "none"},
                                                {ReconMethod::Lorc, "lorc"},
                                                {ReconMethod::Lqer, "lqer"},
                                                {ReconMethod::QeraApprox, "qera-approx"},
                                                {ReconMethod::QeraExact, "qera-exact"}};

}  // namespace

const char* reconMethodName(ReconMethod m) { return enumName(kReconNames, m); }
ReconMethod parseReconMethod(const std::string& s) { return parseEnum(kReconNames, s, "reconstruction"); }

struct ReconLab::Impl {
    int64_t out = 0, in = 0;
    int maxRank = 0;
    at::Tensor wq;  // [out, in]
    double normW2 = 0, trWRW = 0;
    ErrorAt quantOnly;
    struct Method {
        bool ready = false;
        ReconCurve curve;
        at::Tensor p;      // [in, k] S⁻¹U
        at::Tensor sigma;  // [k]
        at::Tensor vh;     // [k, out]
    };
    Method methods[5];
    std::vector<double> tail;
    double dampUsed = 0;

    ErrorAt errorAt(double e2, double trERE) const {
        return {ratio(e2, normW2), ratio(trERE, trWRW), std::max(e2, 0.0) / double(out * in)};
    }
};

namespace {

// The scale of one method as M = S·Eᵀ and P = S⁻¹U (applied after the SVD).
struct Scaled {
    at::Tensor m;                                // [in, out]
    std::function<at::Tensor(const at::Tensor&)> solve;  // U ↦ S⁻¹U
};

Scaled diagonalScale(const at::Tensor& s, const at::Tensor& et) {
    // QERA multiplies by s as is and replaces s ≤ 0 by the scale dtype's eps (float32) only
    // in the solve.
    const at::Tensor safe = at::where(s <= 0, at::full_like(s, double(std::numeric_limits<float>::epsilon())), s);
    return {s.unsqueeze(1) * et, [safe](const at::Tensor& u) { return u / safe.unsqueeze(1); }};
}

Scaled exactScale(const at::Tensor& r, const at::Tensor& et, const ReconParams& p, double& dampUsed) {
    const int64_t n = r.size(0);
    const double meanDiag = r.diagonal().mean().item<double>();
    at::Tensor rr = r;
    if (p.damp > 0) rr = rr + at::eye(n, r.options()) * (p.damp * meanDiag);
    if (p.route == SqrtRoute::Eigh) {
        auto [lambda, q] = at::linalg_eigh(rr);
        const double lmax = std::max(lambda.max().item<double>(), 0.0);
        const double floor = std::max(p.eigFloor * lmax, std::numeric_limits<double>::min());
        const at::Tensor l = lambda.clamp_min(floor);
        const at::Tensor sqrtS = (q * l.sqrt().unsqueeze(0)).mm(q.t());
        const at::Tensor invS = (q * l.rsqrt().unsqueeze(0)).mm(q.t());
        return {sqrtS.mm(et), [invS](const at::Tensor& u) { return invS.mm(u); }};
    }
    // Cholesky: R = L Lᵀ, S = Lᵀ. A singular R gets damping added until it factors.
    const double step = p.damp > 0 ? p.damp * meanDiag : 1e-6 * std::max(meanDiag, 1e-300);
    dampUsed = p.damp > 0 ? p.damp * meanDiag : 0.0;
    for (int attempt = 0; attempt <= 50; ++attempt) {
        auto [l, info] = at::linalg_cholesky_ex(rr);
        if (info.item<int64_t>() == 0) {
            const at::Tensor lt = l.t().contiguous();
            return {lt.mm(et), [lt](const at::Tensor& u) { return at::linalg_solve_triangular(lt, u, true); }};
        }
        rr = rr + at::eye(n, r.options()) * step;
        dampUsed += step;
    }
    fail(ErrorKind::BadInput, "QERA-exact: the calibration matrix R is not positive definite even after damping");
}

}  // namespace

ReconLab::ReconLab(const Matrix2D& w, const Matrix2D& wq, const InputStats& stats, const ReconParams& params)
    : m(std::make_unique<Impl>()) {
    if (w.rows != wq.rows || w.cols != wq.cols) fail(ErrorKind::BadInput, "ReconLab: W and Q(W) differ in shape");
    if (stats.dim != w.cols || int64_t(stats.r.size()) != stats.dim * stats.dim)
        fail(ErrorKind::BadInput, "ReconLab: R must be in x in for W of shape out x in");
    at::NoGradGuard noGrad;
    m->out = w.rows;
    m->in = w.cols;
    const int64_t full = std::min(m->out, m->in);
    m->maxRank = int(params.maxRank < 0 ? full : std::min<int64_t>(params.maxRank, full));
    const at::Device dev = reconDevice(params.device);
    const at::Tensor W = fromMatrix(w).to(dev);
    m->wq = fromMatrix(wq).to(dev);
    at::Tensor r = at::from_blob(const_cast<double*>(stats.r.data()), {stats.dim, stats.dim}, at::kDouble).to(dev);
    r = 0.5 * (r + r.t());
    const at::Tensor e = W - m->wq, et = e.t();
    m->normW2 = W.pow(2).sum().item<double>();
    m->trWRW = (W.mm(r) * W).sum().item<double>();
    const double normE2 = e.pow(2).sum().item<double>();
    const double trERE = (e.mm(r) * e).sum().item<double>();
    m->quantOnly = m->errorAt(normE2, trERE);

    std::vector<ReconMethod> wanted = params.methods;
    if (wanted.empty()) wanted.assign(std::begin(kReconMethods), std::end(kReconMethods));
    for (ReconMethod method : wanted) {
        if (method == ReconMethod::None) continue;
        Scaled s;
        switch (method) {
        case ReconMethod::Lorc:
            s = {et, [](const at::Tensor& u) { return u; }};
            break;
        case ReconMethod::QeraApprox:
            s = diagonalScale(r.diagonal().clamp_min(0).sqrt(), et);
            break;
        case ReconMethod::Lqer: {
            if (int64_t(stats.meanAbs.size()) != stats.dim) fail(ErrorKind::BadInput, "LQER needs mean|x| statistics");
            at::Tensor sc = at::tensor(stats.meanAbs, at::kDouble).to(dev).clamp_min(1e-4);
            sc = sc / (sc.min() * sc.max()).sqrt();
            s = diagonalScale(sc, et);
            break;
        }
        case ReconMethod::QeraExact:
            s = exactScale(r, et, params, m->dampUsed);
            break;
        case ReconMethod::None: break;
        }
        auto [u, sigma, vh] = at::linalg_svd(s.m, false);
        if (method == ReconMethod::QeraExact) {  // Eckart–Young: the tail of all singular values
            const at::Tensor s2 = sigma.pow(2);
            const std::vector<double> suffix = hostValues(s2.flip(0).cumsum(0).flip(0));  // Σ_{j ≥ k}
            m->tail.assign(size_t(m->maxRank) + 1, 0.0);
            for (int k = 0; k <= m->maxRank; ++k)
                m->tail[size_t(k)] = ratio(size_t(k) < suffix.size() ? suffix[size_t(k)] : 0.0, m->trWRW);
        }
        const int64_t k = m->maxRank;
        Impl::Method& out = m->methods[int(method)];
        out.p = s.solve(u.slice(1, 0, k)).contiguous();
        out.sigma = sigma.slice(0, 0, k).contiguous();
        out.vh = vh.slice(0, 0, k).contiguous();
        const at::Tensor etv = et.mm(out.vh.t());  // Eᵀ v_j
        const at::Tensor rp = r.mm(out.p);
        const at::Tensor a = (rp * etv).sum(0), b = (out.p * rp).sum(0);
        const at::Tensor c = (out.p * etv).sum(0), d = out.p.pow(2).sum(0);
        const at::Tensor sg = out.sigma;
        const at::Tensor dOut = (-2 * sg * a + sg.pow(2) * b).cumsum(0);
        const at::Tensor dW = (-2 * sg * c + sg.pow(2) * d).cumsum(0);
        ReconCurve& cv = out.curve;
        cv.method = method;
        cv.sigma = hostValues(sigma);
        const std::vector<double> dWh = hostValues(dW), dOuth = hostValues(dOut);
        const double* pw = dWh.data();
        const double* po = dOuth.data();
        for (int64_t j = 0; j <= k; ++j) {
            const double e2 = normE2 + (j ? pw[j - 1] : 0.0);
            const double o2 = trERE + (j ? po[j - 1] : 0.0);
            const ErrorAt ea = m->errorAt(e2, o2);
            cv.weightRelErr.push_back(ea.weightRelErr);
            cv.outputRelErr.push_back(ea.outputRelErr);
            cv.mse.push_back(ea.mse);
        }
        out.ready = true;
    }
}

ReconLab::~ReconLab() = default;
ReconLab::ReconLab(ReconLab&&) noexcept = default;
ReconLab& ReconLab::operator=(ReconLab&&) noexcept = default;

int ReconLab::maxRank() const { return m->maxRank; }
ErrorAt ReconLab::quantOnly() const { return m->quantOnly; }
double ReconLab::dampUsed() const { return m->dampUsed; }

const ReconCurve& ReconLab::curve(ReconMethod method) const {
    const Impl::Method& x = m->methods[int(method)];
    if (!x.ready) fail(ErrorKind::BadInput, std::string("ReconLab: method ") + reconMethodName(method) + " was not prepared");
    return x.curve;
}

ErrorAt ReconLab::at(ReconMethod method, int rank) const {
    if (method == ReconMethod::None) return m->quantOnly;
    const ReconCurve& c = curve(method);
    const size_t k = size_t(std::clamp(rank, 0, m->maxRank));
    return {c.weightRelErr[k], c.outputRelErr[k], c.mse[k]};
}

Matrix2D ReconLab::corrected(ReconMethod method, int rank) const {
    at::NoGradGuard noGrad;
    if (method == ReconMethod::None) return toMatrix(m->wq);
    curve(method);  // throws when not prepared
    const Impl::Method& x = m->methods[int(method)];
    const int64_t k = std::clamp<int64_t>(rank, 0, m->maxRank);
    if (k == 0) return toMatrix(m->wq);
    const at::Tensor ab = (x.p.slice(1, 0, k) * x.sigma.slice(0, 0, k).unsqueeze(0)).mm(x.vh.slice(0, 0, k));
    return toMatrix(m->wq + ab.t());
}

std::vector<double> ReconLab::qeraTail() const {
    curve(ReconMethod::QeraExact);
    return m->tail;
}

}  // namespace attnscope
