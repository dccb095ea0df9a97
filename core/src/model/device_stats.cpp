#include "attnscope/device_stats.h"

#include <sys/resource.h>

#ifdef ATTNSCOPE_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace attnscope {

int64_t peakHostMemoryBytes() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return int64_t(u.ru_maxrss) * 1024;  // Linux reports kilobytes
}

#ifdef ATTNSCOPE_WITH_CUDA
int64_t peakDeviceMemoryBytes() {
    if (c10::cuda::device_count() == 0) return 0;
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    // Index 0 is StatType::AGGREGATE; the enum moved namespaces between torch 1.x and 2.x.
    return stats.allocated_bytes[0].peak;
}
void resetPeakDeviceMemory() {
    if (c10::cuda::device_count() > 0) c10::cuda::CUDACachingAllocator::resetPeakStats(0);
}
void synchronizeDevice() {
    if (c10::cuda::device_count() > 0) c10::cuda::device_synchronize();
}
#else
int64_t peakDeviceMemoryBytes() { return 0; }
void resetPeakDeviceMemory() {}
void synchronizeDevice() {}
#endif

}  // namespace attnscope
