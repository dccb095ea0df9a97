// SessionTensor: typed little-endian arrays of a session, and their checked accessors.
#include "attnscope/error.h"
#include "attnscope/session.h"

#include <cstring>

namespace attnscope {
namespace {

template <class T>
SessionTensor make(SessionTensor::Type type, std::vector<int64_t> shape, const std::vector<T>& v) {
    SessionTensor t;
    t.type = type;
    t.shape = std::move(shape);
    if (t.numel() != int64_t(v.size()))
        fail(ErrorKind::Internal, "session tensor: " + std::to_string(v.size()) +
                                      " values do not fill the shape (" + std::to_string(t.numel()) + ")");
    t.bytes.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());  // hosts are little-endian
    return t;
}

template <class T>
std::vector<T> copyOut(const SessionTensor& t, SessionTensor::Type want, const std::string& what) {
    if (t.type != want)
        fail(ErrorKind::BadInput, what + ": stored as " + sessionTensorTypeName(t.type) + ", expected " +
                                      sessionTensorTypeName(want));
    std::vector<T> v(t.bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(T));
    return v;
}

}  // namespace

const char* sessionTensorTypeName(SessionTensor::Type t) {
    switch (t) {
    case SessionTensor::Type::F32: return "F32";
    case SessionTensor::Type::F64: return "F64";
    case SessionTensor::Type::I32: return "I32";
    case SessionTensor::Type::I64: return "I64";
    case SessionTensor::Type::U8: return "U8";
    }
    return "?";
}

int64_t SessionTensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

SessionTensor SessionTensor::f32(std::vector<int64_t> s, const std::vector<float>& v) { return make(Type::F32, std::move(s), v); }
SessionTensor SessionTensor::f64(std::vector<int64_t> s, const std::vector<double>& v) { return make(Type::F64, std::move(s), v); }
SessionTensor SessionTensor::i32(std::vector<int64_t> s, const std::vector<int32_t>& v) { return make(Type::I32, std::move(s), v); }
SessionTensor SessionTensor::i64(std::vector<int64_t> s, const std::vector<int64_t>& v) { return make(Type::I64, std::move(s), v); }
SessionTensor SessionTensor::u8(std::vector<int64_t> s, const std::vector<uint8_t>& v) { return make(Type::U8, std::move(s), v); }

std::vector<float> SessionTensor::toF32(const std::string& w) const { return copyOut<float>(*this, Type::F32, w); }
std::vector<double> SessionTensor::toF64(const std::string& w) const { return copyOut<double>(*this, Type::F64, w); }
std::vector<int32_t> SessionTensor::toI32(const std::string& w) const { return copyOut<int32_t>(*this, Type::I32, w); }
std::vector<int64_t> SessionTensor::toI64(const std::string& w) const { return copyOut<int64_t>(*this, Type::I64, w); }
std::vector<uint8_t> SessionTensor::toU8(const std::string& w) const { return copyOut<uint8_t>(*this, Type::U8, w); }

const SessionTensor& SessionSection::require(const std::string& panel, const std::string& name,
                                             SessionTensor::Type type, const std::vector<int64_t>& shape) const {
    const std::string what = panel + "/" + name;
    auto it = tensors.find(name);
    if (it == tensors.end()) fail(ErrorKind::BadInput, "session is missing tensor '" + what + "'");
    const SessionTensor& t = it->second;
    if (t.type != type)
        fail(ErrorKind::BadInput, "tensor '" + what + "' is " + sessionTensorTypeName(t.type) + ", expected " +
                                      sessionTensorTypeName(type));
    bool ok = t.shape.size() == shape.size();
    for (size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || shape[i] == t.shape[i];
    if (!ok) {
        auto fmt = [](const std::vector<int64_t>& s) {
            std::string out = "[";
            for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + (s[i] < 0 ? std::string("*") : std::to_string(s[i]));
            return out + "]";
        };
        fail(ErrorKind::BadInput, "tensor '" + what + "' has shape " + fmt(t.shape) + ", expected " + fmt(shape));
    }
    return t;
}

}  // namespace attnscope
