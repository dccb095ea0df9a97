// Torch-side internals of the A^3 lab: the calibration moments and the cuts every rank
// reduces to, in each head's own coordinates.
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "attnscope/analyses/a3.h"

namespace attnscope {

// Σ over calibration rows of xᵀx (float64, CPU), per layer.
struct A3Stats : ModelShape {
    int64_t tokens = 0;
    std::vector<at::Tensor> gq;  // [H, d, d]   pre-RoPE q (after a QK norm)
    std::vector<at::Tensor> gk;  // [Hkv, d, d] pre-RoPE k
    std::vector<at::Tensor> go;  // [H, d, d]   head outputs o_h = Σ_j P_ij v_j (before W_o)
    std::vector<at::Tensor> rh;  // [F, F]      the MLP's intermediate h (W_down's input)
};

namespace a3 {

// G + δ·mean(diag G)·I = L², L symmetric: L and L⁻¹ (float64).
struct SymRoot {
    at::Tensor root, inverse;
};
SymRoot symmetricRoot(const at::Tensor& g, double damping);

// tr(Xᵀ A X B) for symmetric A, B: ‖A^½ X B^½‖_F² (the weighted error of a d x d change X).
double weightedSquare(const at::Tensor& a, const at::Tensor& x, const at::Tensor& b);

// QK of one KV group: score map q C_h kᵀ per query head h of the group (C_h: d x d).
struct QkFactors {
    std::vector<SymRoot> lq;  // per head of the group
    SymRoot lk;
    at::Tensor u, s, v;       // SVD of [L_q,h L_k]_h stacked: (k·d x d), (d), (d x d)
};
QkFactors qkFactors(const std::vector<at::Tensor>& gq, const at::Tensor& gk, double damping);
std::vector<at::Tensor> qkCut(const QkFactors& f, int r);  // C_h = L_q,h⁻¹ U_h,r Σ_r V_rᵀ L_k⁻¹

// OV of one KV group: head outputs o_h P with one d x d P (rank r) for the group's shared V̂.
struct OvFactors {
    SymRoot l;           // of the group-mean moment (exact for one head per group)
    at::Tensor u, s;     // SVD of L [M_h]_h, M_h = W_o,hᵀ (d x D): (d x d), (d)
};
OvFactors ovFactors(const at::Tensor& gMean, const std::vector<at::Tensor>& m, double damping);
at::Tensor ovCut(const OvFactors& f, int r);  // P = L⁻¹ U_r U_rᵀ L
// Head h's own W_o refit on the group's V̂ basis B = L⁻¹ U_r (least squares under its moment
// G_h): P_h = B (Bᵀ G_h B)⁻¹ Bᵀ G_h, never worse than P for that head; equal to P for one head.
at::Tensor ovHeadCut(const OvFactors& f, int r, const at::Tensor& gh, double damping);

}  // namespace a3
}  // namespace attnscope
