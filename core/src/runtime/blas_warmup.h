// One warm-up product through the host BLAS, before a model's memory is taken.
#pragma once

namespace attnscope::core {

// BLIS (the libblas.so.3 that scripts/setup-deps.sh installs: 3-5x Debian's reference BLAS)
// takes its packing buffers from pools that grow with malloc on first use, and aborts the
// process if that malloc fails. One float and one double product when the first model opens,
// while memory is plentiful, fill those pools, so a later out-of-memory fails in libtorch's
// allocator (a clear error) instead of inside BLAS. (OpenBLAS maps its buffers when it loads,
// the reference BLAS needs none.) Once per process; a few milliseconds.
void warmUpHostBlas();

}  // namespace attnscope::core
