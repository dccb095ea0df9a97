// The A^3 lab's three components of one layer (QK, OV, MLP): each one's cut at a kept
// dimension r, A^3's and its baseline's, and their scores on the calibration moments and the
// held-out rows. Shared by the sweep (a3_lab.cpp) and the end-to-end application
// (a3_apply.cpp); the bodies are in a3_qk.cpp and a3_ov_mlp.cpp. Float64 on the model's
// device (LabDevice). Internal: include only from core/src/analyses/a3/.
#pragma once
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "analyses/a3/a3_detail.h"
#include "trace/trace_impl.h"

namespace attnscope::a3 {


// Where the lab computes, in float64: the model's device (an H100 runs the 1B shape's sweep in
// seconds where 16 CPU cores take minutes). Set for the duration of a lab call by LabDevice;
// the calibration moments stay in host memory and move per layer.
inline thread_local at::Device tLabDevice = at::Device(at::kCPU);
class LabDevice {
public:
    explicit LabDevice(at::Device d) : m_saved(tLabDevice) { tLabDevice = d; }
    ~LabDevice() { tLabDevice = m_saved; }
    LabDevice(const LabDevice&) = delete;
    LabDevice& operator=(const LabDevice&) = delete;

private:
    at::Device m_saved;
};
inline at::TensorOptions f64Options() { return at::TensorOptions().dtype(at::kDouble).device(tLabDevice); }
inline at::TensorOptions i64Options() { return at::TensorOptions().dtype(at::kLong).device(tLabDevice); }
inline at::Tensor f64(const at::Tensor& t) { return t.to(tLabDevice, at::kDouble).contiguous(); }

inline double safeRatio(double num, double den) { return den > 0 ? std::sqrt(std::max(0.0, num) / den) : 0.0; }

// What QK cuts in: whole rotary frequency pairs, single non-rotary dimensions.
struct Units {
    std::vector<std::vector<int64_t>> dims;  // each unit's dimensions
    std::vector<bool> rotary;
};

// A symmetric matrix restricted to `idx` rows and columns.
inline at::Tensor principal(const at::Tensor& g, const at::Tensor& idx) { return g.index_select(0, idx).index_select(1, idx); }

class QkHeldOut;  // the held-out scores of one layer (a3_qk.cpp)

// A point at kept dimension r of `full`, removing `saved` weights.
inline A3Point pointAt(int r, int full, int64_t saved) {
    A3Point p;
    p.r = r;
    p.fraction = double(r) / full;
    p.paramsSaved = saved;
    return p;
}

inline int roundRank(double fraction, int full, int lo = 1) {
    return std::clamp(int(std::lround(fraction * full)), std::min(lo, full), full);
}

// ---- the three components of one layer -----------------------------------------------------

struct LayerInputs {
    const core::ModelConfig& c;
    const core::LayerWeights& w;
    const A3Stats& stats;
    int layer;
    const core::LayerCapture& held;  // the held-out trace's tensors
    int64_t row0;
    const A3Params& params;
};

class QkLab {
public:
    explicit QkLab(const LayerInputs& in);
    ~QkLab();

    int rank(double fraction) const;
    std::string modeText() const;
    A3Point point(double fraction) const;
    A3Rope ropeMode() const { return m_mode; }
    int rotaryDims() const { return m_rot; }

    // C_h of every query head at rank r (A^3, or the baseline from the weights alone): the
    // scores become q_h C_h k_gᵀ. Frequency pairs: 0/1 diagonal masks, the same for a group.
    std::vector<at::Tensor> cuts(int r, bool baseline) const;

private:
    std::vector<at::Tensor> group(const std::vector<at::Tensor>& perHead, int g) const;
    std::vector<at::Tensor> subs(std::vector<at::Tensor> gs) const;

    void score(const std::vector<at::Tensor>& cuts, double& objective, double& heldOut, double& rowKl,
               double& weightErr) const;

    const LayerInputs& m_in;
    Units m_units;
    bool m_rope = false;
    A3Rope m_mode = A3Rope::PreRope;
    int m_rot = 0;
    at::Tensor m_nr;  // non-rotary dimensions
    std::vector<at::Tensor> m_gq, m_gk, m_wgq, m_wgk;
    std::unique_ptr<QkHeldOut> m_held;
    std::vector<QkFactors> m_a3, m_base;
};

class OvLab {
public:
    explicit OvLab(const LayerInputs& in);

    int rank(double fraction) const { return roundRank(fraction, m_in.c.headDim); }

    // P_h of every query head at rank r (d x d): head h's output o_h becomes o_h P_h before W_o.
    // A^3 refits each head's W_o on its group's V̂ basis; the baseline keeps the plain cut.
    std::vector<at::Tensor> headCuts(int r, bool baseline) const;
    A3Point point(double fraction) const;

private:
    void score(const std::vector<at::Tensor>& cuts, double& objective, double& heldOut, double& weightErr) const;

    const LayerInputs& m_in;
    std::vector<at::Tensor> m_m, m_mm, m_g, m_wg;
    std::vector<OvFactors> m_a3, m_base;
    at::Tensor m_o;
};

class MlpLab {
public:
    explicit MlpLab(const LayerInputs& in);

    int rank(double fraction) const { return roundRank(fraction, m_in.c.dFF); }

    A3Point point(double fraction) const;

    // A^3's W_down [D, F] at r kept channels (the baseline: magnitude pruning, no refit).
    at::Tensor down(int r, bool baseline) const;

private:
    // W_down's replacement [D, F]: the kept columns (refit by least squares), zero elsewhere.
    at::Tensor reduced(int r, const at::Tensor& score, bool refit) const;

    void score(int r, const at::Tensor& importance, bool refit, double& objective, double& heldOut,
               double& weightErr) const;

    const LayerInputs& m_in;
    at::Tensor m_r, m_wd, m_score, m_magnitude, m_h, m_y;
};

}  // namespace attnscope::a3
