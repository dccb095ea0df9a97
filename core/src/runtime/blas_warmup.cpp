#include "runtime/blas_warmup.h"

#include <ATen/ATen.h>

#include <mutex>

namespace attnscope::core {

void warmUpHostBlas() {
    static std::once_flag once;
    std::call_once(once, [] {
        at::NoGradGuard g;
        // Larger than BLIS's cache blocks in every dimension, so every packing buffer is used.
        for (at::ScalarType t : {at::kFloat, at::kDouble}) {
            const at::Tensor a = at::ones({512, 512}, at::TensorOptions().dtype(t));
            (void)at::mm(a, a);
        }
    });
}

}  // namespace attnscope::core
