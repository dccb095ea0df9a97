// The canonical weights of the generic decoder. Every architecture's loader maps its
// file layout onto these roles (nn.Linear layout [out, in]); undefined tensors mean
// "this family has none" (no bias, no gate, ...).
#pragma once
#include <ATen/ATen.h>

#include <vector>

namespace attnscope::core {

struct LayerWeights {
    at::Tensor attnNormW, attnNormB;  // [D]
    at::Tensor wq, bq;                // [H*d, D], [H*d]
    at::Tensor wk, bk;                // [Hkv*d, D]
    at::Tensor wv, bv;                // [Hkv*d, D]
    at::Tensor wo, bo;                // [D, H*d], [D]
    at::Tensor qNorm, kNorm;          // [d] (QK-norm families)
    at::Tensor mlpNormW, mlpNormB;    // [D]
    at::Tensor wGate, bGate;          // [F, D] (gated MLPs)
    at::Tensor wUp, bUp;              // [F, D]
    at::Tensor wDown, bDown;          // [D, F]
};

struct Weights {
    at::Tensor tokEmb;                // [V, D]
    at::Tensor posEmb;                // [ctx, D] (learned positions)
    at::Tensor finalNormW, finalNormB;// [D]
    at::Tensor lmHead, lmHeadB;       // [V, D] (may alias tokEmb when tied)
    std::vector<LayerWeights> layers;

    int64_t parameterCount() const;
};

}  // namespace attnscope::core
