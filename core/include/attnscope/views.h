// Plain view types that cross the core/widgets boundary: shapes plus CPU float buffers.
// No torch, no Qt.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace attnscope {

// Row-major matrix of floats.
struct Matrix2D {
    int64_t rows = 0;
    int64_t cols = 0;
    std::vector<float> data;  // [rows * cols]
    float at(int64_t r, int64_t c) const { return data[size_t(r * cols + c)]; }
};

// The tokens of a prompt as shown to a user.
struct TokenStrip {
    std::vector<int32_t> ids;
    std::vector<std::string> pieces;
};

// One named curve.
struct Series {
    std::string name;
    std::vector<double> x;
    std::vector<double> y;
};

}  // namespace attnscope
