// Reads a fixture's ref.safetensors (written by Hugging Face transformers) into plain
// vectors for comparisons.
#pragma once
#include <QString>

#include <cstring>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace fixture {

struct Array {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

inline Array floats(const attnscope::io::SafetensorsFile& f, const char* name) {
    const auto* e = f.find(name);
    if (!e || e->dtype != attnscope::io::StDType::F32) return {};
    Array a{e->shape, std::vector<float>(size_t(e->numel()))};
    std::memcpy(a.data.data(), e->data, e->nbytes);
    return a;
}

inline std::vector<int32_t> ids(const attnscope::io::SafetensorsFile& f) {
    const auto* e = f.find("input_ids");
    std::vector<int32_t> out;
    if (!e || e->dtype != attnscope::io::StDType::I64) return out;
    for (int64_t i = 0; i < e->numel(); ++i) {
        int64_t v;
        std::memcpy(&v, e->data + i * 8, 8);
        out.push_back(int32_t(v));
    }
    return out;
}

inline double maxAbsDiff(const float* a, const float* b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
    return m;
}

}  // namespace fixture
