// Copies tensors out of a memory-mapped WeightSet into torch tensors of the chosen
// device and dtype, checking names and shapes first.
#pragma once
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "io/safetensors.h"

namespace attnscope::core {

at::ScalarType scalarTypeOf(io::StDType dtype, const std::string& what);

// A CPU tensor holding a copy of the entry's bytes (its own dtype).
at::Tensor tensorFromEntry(const io::TensorEntry& entry);

class TensorLoader {
public:
    TensorLoader(const io::WeightSet& weights, at::Device device, at::ScalarType dtype)
        : m_weights(weights), m_device(device), m_dtype(dtype) {}

    at::Tensor get(const std::string& name, const std::vector<int64_t>& shape) const;
    // Undefined tensor when absent; a present tensor must still have the shape.
    at::Tensor optional(const std::string& name, const std::vector<int64_t>& shape) const;
    bool has(const std::string& name) const { return m_weights.find(name) != nullptr; }
    // `<name>.weight` and `<name>.bias` of a LayerNorm over D.
    void layerNorm(const std::string& name, int64_t D, at::Tensor& weight, at::Tensor& bias) const;
    // A biased linear map in → out as nn.Linear's [out, in] weight; `conv1d`: stored [in, out]
    // (GPT-2's Conv1D) and transposed here.
    void linear(const std::string& name, int64_t out, int64_t in, at::Tensor& weight, at::Tensor& bias,
                bool conv1d = false) const;
    at::Tensor convert(at::Tensor cpu) const;

private:
    const io::WeightSet& m_weights;
    at::Device m_device;
    at::ScalarType m_dtype;
};

}  // namespace attnscope::core
