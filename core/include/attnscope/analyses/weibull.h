// Two-parameter Weibull diagnostics of weight magnitudes (NPM-Weibull; definitions in
// shared/reference/weibull-and-quantization.md §1): |w| ~ Weibull(k, λ) fitted per matrix
// on the probability plot ln(−ln(1−F)) = k·ln|w| − k·ln λ, by either official protocol.
// Plain structs and pure functions; no torch, no Qt.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "attnscope/model.h"

namespace attnscope {

enum class WeibullProtocol {
    Exact,  // sorted |w|, Hazen positions (i−0.5)/n, OLS (the paper's analysis scripts)
    Hist,   // 1024 bins of log10|w| on [−12, 2], count-weighted LS (the library's weibull_fit)
};
enum class WeibullTrim {
    Mid80,  // 0.1 ≤ F ≤ 0.9, the paper's standard
    Mid90,  // 0.05 ≤ F ≤ 0.95
    Full,   // 0 < F < 1
};

const char* weibullProtocolName(WeibullProtocol p);  // "exact", "hist"
const char* weibullTrimName(WeibullTrim t);          // "mid80", "mid90", "full"
WeibullProtocol parseWeibullProtocol(const std::string& s);  // throws Error(BadInput)
WeibullTrim parseWeibullTrim(const std::string& s);          // also accepts mid_80, full_range

// Anchors of the reference (§1.3).
inline constexpr double kWeibullHalfNormalK = 1.2054;     // HalfNormal under mid80, exact protocol
inline constexpr double kWeibullInitAnchor = 1.205;       // classify_k's init anchor
inline constexpr double kWeibullTransmissionLo = 1.186;   // Transmission band (paper README)
inline constexpr double kWeibullTransmissionHi = 1.204;

struct WeibullParams {
    WeibullProtocol protocol = WeibullProtocol::Exact;
    WeibullTrim trim = WeibullTrim::Mid80;
    // Uniform subsample without replacement to this many values before fitting (0 = all),
    // as the paper's scripts do with 4M. Deterministic for a seed (std::mt19937_64; not
    // numpy's stream, so not bit-identical to the scripts).
    uint64_t subsample = 0;
    uint64_t seed = 0;
    bool isInit = false;  // the checkpoint is an initialisation: enables "init_baseline"
    int threads = 0;      // fitModelWeights: worker threads, 0 = one per core
};

// Heaviness metrics that need no fit; the ones to read when R² < 0.95 (distfree.py).
// Exact protocol: from the sorted sample; hist: from the histogram's linear bin midpoints.
struct WeibullDistFree {
    double q90q10 = 0, q99q50 = 0, p999p50 = 0;
    double gini = 0;       // 1 − 2∫Lorenz
    double medianAbs = 0;  // median |w|
};

struct WeibullResult {
    bool ok = false;
    std::string reason;  // why not ok
    WeibullProtocol protocol = WeibullProtocol::Exact;
    WeibullTrim trim = WeibullTrim::Mid80;
    double k = 0, lambda = 0;  // NaN when not ok
    double r2 = 0;             // of the regression on the trimmed points (count-weighted for hist)
    double ks = 0;             // exact: sup|F_n − F_fit| over all values; hist: over all bins (library)
    uint64_t nValues = 0;      // nonzero finite values in the sample (after any subsample)
    uint64_t nFit = 0;         // regression points: values in the window (exact) or bins (hist)
    uint64_t nDropped = 0;     // zeros and non-finite values left out
    double sdK = 0;            // sampling SD of k ≈ 1.4/√nValues (reference §1.5 D)
    // classify_k (core/classify.py): transmission, mild_selection, strong_selection,
    // init_baseline; "none" when the fit failed.
    std::string cls;
    double driftPct = 0;   // |k − 1.205| / 1.205 · 100 (k_drift_severity against the anchor)
    std::string drift;     // invariant (< 1%), mild (≤ 30%), strong
    bool lowR2 = false;    // R² < 0.95: read distFree instead of k
    WeibullDistFree distFree;
    // Trim window in ln|w| (for shading the probability plot).
    double windowLnLo = 0, windowLnHi = 0;
};

// Fits |data| (any sign; zeros and NaN/inf are dropped). Never throws for bad data:
// too few values give ok = false with a reason.
WeibullResult fitWeibull(const float* data, size_t n, const WeibullParams& params);

// The classifier and drift severity alone (R² < 0 means unknown).
const char* weibullClass(double k, double r2, bool isInit);
const char* weibullDriftSeverity(double k, double kInit = kWeibullInitAnchor);

struct WeibullMatrixFit {
    std::string name;  // tensor name in the file
    int layer = -1;
    std::string component;
    std::vector<int64_t> shape;
    WeibullResult fit;
};

// Fits every matrix of Model::weightTensors() (fused QKV whole), in that order, on
// params.threads threads. Throws what Model::weightMatrix throws.
std::vector<WeibullMatrixFit> fitModelWeights(const Model& model, const WeibullParams& params);

// What a probability-plot panel draws for one matrix: the points (thinned to at most
// maxPoints evenly spaced in rank, always over the whole range), the fitted line is
// y = k·x − k·ln λ, and a 1024-bin histogram of log10|w| on [−12, 2] (edges −12 + 14·b/1024).
struct WeibullPlot {
    std::vector<double> lnAbs;  // x = ln|w|, ascending
    std::vector<double> y;      // ln(−ln(1 − F)), Hazen F
    std::vector<double> log10Counts;  // [1024]
};
WeibullPlot weibullPlot(const float* data, size_t n, const WeibullParams& params, size_t maxPoints = 2000);

}  // namespace attnscope
