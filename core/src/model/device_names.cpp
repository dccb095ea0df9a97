// Names of devices and dtypes as the CLI and the GUI spell them.
#include "attnscope/error.h"
#include "attnscope/model.h"

namespace attnscope {

const char* deviceName(Device d) { return d == Device::CUDA ? "cuda" : "cpu"; }

const char* dtypeName(DType t) {
    switch (t) {
    case DType::F32: return "fp32";
    case DType::BF16: return "bf16";
    case DType::F16: return "fp16";
    }
    return "?";
}

Device parseDevice(const std::string& s) {
    if (s == "cpu") return Device::CPU;
    if (s == "cuda" || s == "gpu") return Device::CUDA;
    fail(ErrorKind::BadInput, "unknown device '" + s + "' (expected cpu or cuda)");
}

DType parseDType(const std::string& s) {
    if (s == "fp32" || s == "f32" || s == "float32") return DType::F32;
    if (s == "bf16" || s == "bfloat16") return DType::BF16;
    if (s == "fp16" || s == "f16" || s == "float16") return DType::F16;
    fail(ErrorKind::BadInput, "unknown dtype '" + s + "' (expected fp32, bf16 or fp16)");
}

}  // namespace attnscope
