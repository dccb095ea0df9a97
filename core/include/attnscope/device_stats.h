// Memory and timing helpers for benchmarks and the GUI's status line.
#pragma once
#include <cstdint>

namespace attnscope {

int64_t peakHostMemoryBytes();    // max resident set size of this process
int64_t peakDeviceMemoryBytes();  // peak bytes allocated by torch on CUDA device 0 (0 without CUDA)
void resetPeakDeviceMemory();
void synchronizeDevice();         // waits for queued CUDA work (no-op on CPU builds)

}  // namespace attnscope
