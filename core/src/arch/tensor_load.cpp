#include "arch/tensor_load.h"

#include <cstring>

#include "attnscope/error.h"

namespace attnscope::core {

at::ScalarType scalarTypeOf(io::StDType dtype, const std::string& what) {
    switch (dtype) {
    case io::StDType::F32: return at::kFloat;
    case io::StDType::F16: return at::kHalf;
    case io::StDType::BF16: return at::kBFloat16;
    case io::StDType::F64: return at::kDouble;
    case io::StDType::I64: return at::kLong;
    case io::StDType::I32: return at::kInt;
    default: break;
    }
    fail(ErrorKind::Unsupported, what + ": dtype " + io::stDTypeName(dtype) + " is not supported");
}

at::Tensor tensorFromEntry(const io::TensorEntry& e) {
    const auto st = scalarTypeOf(e.dtype, e.file + ": tensor '" + e.name + "'");
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(st));
    if (uint64_t(t.nbytes()) != e.nbytes)
        fail(ErrorKind::BadInput, e.file + ": tensor '" + e.name + "' has a byte length that does not match its shape");
    // The mapping may be unaligned, so copy bytes rather than wrapping the pointer.
    if (e.nbytes) std::memcpy(t.data_ptr(), e.data, e.nbytes);
    return t;
}

at::Tensor TensorLoader::convert(at::Tensor cpu) const {
    return cpu.to(m_device, m_dtype).contiguous();
}

at::Tensor TensorLoader::get(const std::string& name, const std::vector<int64_t>& shape) const {
    return convert(tensorFromEntry(m_weights.require(name, shape)));
}

at::Tensor TensorLoader::optional(const std::string& name, const std::vector<int64_t>& shape) const {
    if (!has(name)) return {};
    return get(name, shape);
}

void TensorLoader::layerNorm(const std::string& name, int64_t D, at::Tensor& weight, at::Tensor& bias) const {
    weight = get(name + ".weight", {D});
    bias = get(name + ".bias", {D});
}

void TensorLoader::linear(const std::string& name, int64_t out, int64_t in, at::Tensor& weight, at::Tensor& bias,
                          bool conv1d) const {
    weight = conv1d ? get(name + ".weight", {in, out}).t().contiguous() : get(name + ".weight", {out, in});
    bias = get(name + ".bias", {out});
}

}  // namespace attnscope::core
