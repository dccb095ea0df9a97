#include "arch/weights.h"

namespace attnscope::core {

int64_t Weights::parameterCount() const {
    auto n = [](const at::Tensor& t) { return t.defined() ? t.numel() : int64_t(0); };
    int64_t total = n(tokEmb) + n(posEmb) + n(finalNormW) + n(finalNormB) + n(lmHeadB);
    // A tied head shares the embedding's storage; count it once, as HF does.
    if (lmHead.defined() && !lmHead.is_same(tokEmb)) total += n(lmHead);
    for (const auto& l : layers)
        for (const at::Tensor* t : {&l.attnNormW, &l.attnNormB, &l.wq, &l.bq, &l.wk, &l.bk, &l.wv,
                                    &l.bv, &l.wo, &l.bo, &l.qNorm, &l.kNorm, &l.mlpNormW,
                                    &l.mlpNormB, &l.wGate, &l.bGate, &l.wUp, &l.bUp, &l.wDown,
                                    &l.bDown})
            total += n(*t);
    return total;
}

}  // namespace attnscope::core
