// Session section of the quantization panel (docs/session-format.md, "quant"): the weight
// quantizer and every matrix's error at every rank for every reconstruction method, so the
// bars and the error-versus-rank curves redraw at any rank without the model. The KV-cache
// and score side is recomputed when the model is present and is not stored.
#include <array>

#include "attnscope/error.h"
#include "attnscope/session_codecs.h"
#include "session/codec_json.h"

namespace attnscope {

using nlohmann::json;
using Type = SessionTensor::Type;

namespace {

// Names as core spells them (reconMethodName, linearInputName; this library has no core).
constexpr std::array<const char*, 5> kMethods = {"none", "lorc", "lqer", "qera-approx", "qera-exact"};  // ReconMethod order
constexpr std::array<const char*, 4> kInputs = {"attn_in", "head_out", "mlp_in", "down_in"};           // LinearInput order
constexpr std::array<const char*, 2> kErrors = {"output", "weight"};
constexpr int64_t kMaxMatrices = 1 << 16;

}  // namespace

SessionSection encodeQuant(const QuantSection& q) {
    const int64_t M = int64_t(q.matrices.size());
    if (int64_t(q.quantOnly.size()) != M || int64_t(q.curves.size()) != M)
        fail(ErrorKind::BadInput, "quant: matrices, errors and curves differ in count");
    SessionSection s;
    json matrices = json::array();
    for (const QuantMatrix& m : q.matrices)
        matrices.push_back({{"name", m.name}, {"layer", m.layer}, {"component", m.component}, {"rows", m.rows},
                            {"cols", m.cols}, {"input", kInputs[size_t(m.input)]}});
    s.params = {{"scheme", q.quant.scheme},   {"bits", q.quant.bits},         {"group", q.quant.group},
                {"mse_clip", q.quant.mseClip}, {"bf16_input", q.quant.bf16Input}, {"calib_tokens", q.calibTokens},
                {"matrices", matrices},       {"method_a", q.methodA},        {"method_b", q.methodB},
                {"error", q.error},           {"component", q.component},     {"rank", q.rank},
                {"matrix", q.matrix}};
    const codec::JsonReader written(s.params, "quant");  // refuse writing what cannot be read
    for (const char* key : {"method_a", "method_b"}) written.choice(key, kMethods);
    written.choice("error", kErrors);
    std::vector<double> quantOnly;
    for (const ErrorAt& e : q.quantOnly) quantOnly.insert(quantOnly.end(), {e.weightRelErr, e.outputRelErr, e.mse});
    // Curves of every matrix, concatenated: one row per (matrix, method).
    std::vector<int32_t> matrix, method;
    std::vector<int64_t> length, sigmaLength;
    std::vector<double> weight, output, mse, sigma;
    for (int64_t i = 0; i < M; ++i)
        for (const ReconCurve& c : q.curves[size_t(i)]) {
            if (c.outputRelErr.size() != c.weightRelErr.size() || c.mse.size() != c.weightRelErr.size())
                fail(ErrorKind::BadInput, "quant: a curve's error columns differ in length");
            matrix.push_back(int32_t(i));
            method.push_back(int32_t(c.method));
            length.push_back(int64_t(c.weightRelErr.size()));
            sigmaLength.push_back(int64_t(c.sigma.size()));
            weight.insert(weight.end(), c.weightRelErr.begin(), c.weightRelErr.end());
            output.insert(output.end(), c.outputRelErr.begin(), c.outputRelErr.end());
            mse.insert(mse.end(), c.mse.begin(), c.mse.end());
            sigma.insert(sigma.end(), c.sigma.begin(), c.sigma.end());
        }
    const int64_t K = int64_t(matrix.size()), n = int64_t(weight.size());
    s.tensors["quant_only"] = SessionTensor::f64({M, 3}, quantOnly);
    s.tensors["curves.matrix"] = SessionTensor::i32({K}, matrix);
    s.tensors["curves.method"] = SessionTensor::i32({K}, method);
    s.tensors["curves.length"] = SessionTensor::i64({K}, length);
    s.tensors["curves.sigma_length"] = SessionTensor::i64({K}, sigmaLength);
    s.tensors["curves.weight_rel_err"] = SessionTensor::f64({n}, weight);
    s.tensors["curves.output_rel_err"] = SessionTensor::f64({n}, output);
    s.tensors["curves.mse"] = SessionTensor::f64({n}, mse);
    s.tensors["curves.sigma"] = SessionTensor::f64({int64_t(sigma.size())}, sigma);
    return s;
}

QuantSection decodeQuant(const SessionSection& s) {
    const codec::JsonReader j(s.params, "quant");
    QuantSection q;
    q.quant.scheme = j.str("scheme");
    q.quant.bits = int(j.integer("bits", 1, 16));
    q.quant.group = int(j.integer("group", -1, 1 << 20));
    q.quant.mseClip = j.boolean("mse_clip");
    q.quant.bf16Input = j.boolean("bf16_input");
    q.calibTokens = j.integer("calib_tokens", 0, int64_t(1) << 40);
    for (const codec::JsonReader& m : j.objects("matrices", size_t(kMaxMatrices))) {
        QuantMatrix x;
        x.name = m.str("name");
        x.layer = int(m.integer("layer", -1, 1 << 16));
        x.component = m.str("component");
        x.rows = m.integer("rows", 0, int64_t(1) << 31);
        x.cols = m.integer("cols", 0, int64_t(1) << 31);
        x.input = LinearInput(m.choice("input", kInputs));
        q.matrices.push_back(std::move(x));
    }
    q.methodA = kMethods[size_t(j.choice("method_a", kMethods))];
    q.methodB = kMethods[size_t(j.choice("method_b", kMethods))];
    q.error = kErrors[size_t(j.choice("error", kErrors))];
    q.component = j.str("component");
    q.rank = int(j.integer("rank", 0, 1 << 20));
    const int64_t M = int64_t(q.matrices.size());
    q.matrix = int(j.integer("matrix", 0, std::max<int64_t>(0, M - 1)));

    const std::vector<double> quantOnly = s.require("quant", "quant_only", Type::F64, {M, 3}).toF64("quant/quant_only");
    for (int64_t i = 0; i < M; ++i) q.quantOnly.push_back({quantOnly[size_t(3 * i)], quantOnly[size_t(3 * i + 1)], quantOnly[size_t(3 * i + 2)]});
    const std::vector<int32_t> matrix = s.require("quant", "curves.matrix", Type::I32, {-1}).toI32("quant/curves.matrix");
    const int64_t K = int64_t(matrix.size());
    const std::vector<int32_t> method = s.require("quant", "curves.method", Type::I32, {K}).toI32("quant/curves.method");
    const std::vector<int64_t> length = s.require("quant", "curves.length", Type::I64, {K}).toI64("quant/curves.length");
    const std::vector<int64_t> sigmaLength =
        s.require("quant", "curves.sigma_length", Type::I64, {K}).toI64("quant/curves.sigma_length");
    const std::vector<double> weight = s.require("quant", "curves.weight_rel_err", Type::F64, {-1}).toF64("quant/curves.weight_rel_err");
    const int64_t n = int64_t(weight.size());
    const std::vector<double> output = s.require("quant", "curves.output_rel_err", Type::F64, {n}).toF64("quant/curves.output_rel_err");
    const std::vector<double> mse = s.require("quant", "curves.mse", Type::F64, {n}).toF64("quant/curves.mse");
    const std::vector<double> sigma = s.require("quant", "curves.sigma", Type::F64, {-1}).toF64("quant/curves.sigma");
    q.curves.assign(size_t(M), {});
    int64_t at = 0, sigmaAt = 0;
    for (int64_t k = 0; k < K; ++k) {
        const int32_t m = matrix[size_t(k)];
        if (m < 0 || m >= M || (k && m < matrix[size_t(k - 1)]))
            j.bad("curves.matrix indexes no matrix or is out of order");
        if (method[size_t(k)] < 0 || method[size_t(k)] >= int32_t(kMethods.size()))
            j.bad("curves.method holds an unknown method");
        const int64_t len = length[size_t(k)], sl = sigmaLength[size_t(k)];
        if (len < 0 || len > n - at || sl < 0 || sl > int64_t(sigma.size()) - sigmaAt)
            j.bad("curves.length / curves.sigma_length do not match the stored values");
        ReconCurve c;
        c.method = ReconMethod(method[size_t(k)]);
        c.weightRelErr.assign(weight.begin() + at, weight.begin() + at + len);
        c.outputRelErr.assign(output.begin() + at, output.begin() + at + len);
        c.mse.assign(mse.begin() + at, mse.begin() + at + len);
        c.sigma.assign(sigma.begin() + sigmaAt, sigma.begin() + sigmaAt + sl);
        at += len;
        sigmaAt += sl;
        q.curves[size_t(m)].push_back(std::move(c));
    }
    if (at != n || sigmaAt != int64_t(sigma.size())) j.bad("the curves' values are longer than their lengths say");
    return q;
}

}  // namespace attnscope
