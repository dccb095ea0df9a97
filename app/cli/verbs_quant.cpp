// quant and kvquant: the quantization error lab (issue 8; shared/reference/
// weibull-and-quantization.md §2–§5). quant fake-quantizes every linear layer, optionally
// reconstructs the error at a rank, and compares the model with the original; kvquant
// quantizes the KV cache (or Q/K for the scores) of the prompt's trace, per layer and head.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>

#include "attnscope/inspector.h"  // the analyses' result types come with the facade
#include "attnscope/error.h"
#include "cli_common.h"

namespace attnscope::app {
namespace {

using Json = nlohmann::ordered_json;

Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

// BOS the tokenizer adds (−1 when none): what every eval window after the first starts with.
int32_t bosOf(const Model& m, bool addSpecial) {
    if (!addSpecial) return -1;
    const std::vector<int32_t> ids = m.tokenize("", true);
    return ids.size() == 1 ? ids[0] : -1;
}

std::vector<int32_t> textIds(const CliArgs& a, const Model& m, const std::string& fileKey) {
    if (a.has(fileKey)) return m.tokenize(readTextFile(a.str(fileKey)), !a.has("--no-bos"));
    return promptIds(a, m);
}

bool boolOption(const CliArgs& a, const std::string& key, bool fallback) {
    if (!a.has(key)) return fallback;
    const std::string v = a.str(key);
    if (v == "1" || v == "on" || v == "true") return true;
    if (v == "0" || v == "off" || v == "false") return false;
    fail(ErrorKind::BadInput, key + " expects 0 or 1, got '" + v + "'");
}

}  // namespace

int verbQuant(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert({"--scheme", "--bits", "--group", "--recon", "--rank", "--route", "--damp", "--eig-floor",
                   "--calib-file", "--eval-file", "--window", "--rsq-min", "--rsq-max"});
    auto flags = kModelFlags;
    flags.insert({"--mse-clip", "--rsq", "--no-eval"});
    const CliArgs a(argv, valued, flags);
    QuantParams qp;
    qp.quant.scheme = a.str("--scheme", "rtn-sym");
    qp.quant.bits = a.integer("--bits", 4);
    qp.quant.group = a.integer("--group", 0);
    qp.quant.mseClip = a.has("--mse-clip");
    findWeightQuantizer(qp.quant.scheme);  // fail on a bad scheme before loading anything
    qp.recon = parseReconMethod(a.str("--recon", "none"));
    if (qp.recon != ReconMethod::None && !a.has("--rank")) fail(ErrorKind::BadInput, "--recon needs --rank R");
    qp.rank = a.integer("--rank", 0);
    if (qp.rank < 0) fail(ErrorKind::BadInput, "--rank must be >= 0");
    const std::string route = a.str("--route", "eigh");
    if (route != "eigh" && route != "cholesky") fail(ErrorKind::BadInput, "--route expects eigh or cholesky");
    qp.reconParams.route = route == "eigh" ? SqrtRoute::Eigh : SqrtRoute::Cholesky;
    qp.reconParams.damp = a.number("--damp", 0.0);
    qp.reconParams.eigFloor = a.number("--eig-floor", 1e-8);
    qp.evaluate = !a.has("--no-eval");
    CalibParams cp;
    cp.rsqWeighting = a.has("--rsq");
    cp.rsqMin = a.number("--rsq-min", cp.rsqMin);
    cp.rsqMax = a.number("--rsq-max", cp.rsqMax);

    auto m = openModel(a);
    cp.window = std::min(a.integer("--window", 512), m->info().contextLength);
    if (cp.window < 2) fail(ErrorKind::BadInput, "--window must be at least 2");
    // Calibration text: --calib-file, else the prompt. Held-out text: --eval-file, else the
    // prompt when one is given, else the calibration text.
    const bool anyPrompt = a.has("--prompt") || a.has("--prompt-file") || a.has("--ids");
    const std::vector<int32_t> calibIds = textIds(a, *m, "--calib-file");
    const std::vector<int32_t> evalIds =
        a.has("--eval-file") || anyPrompt ? textIds(a, *m, "--eval-file") : calibIds;
    const int32_t bos = a.has("--ids") ? -1 : bosOf(*m, !a.has("--no-bos"));
    const Calibration calib = calibrate(*m, splitWindows(calibIds, cp.window, bos), cp);
    const QuantModelResult r = quantizeModel(*m, calib, splitWindows(evalIds, cp.window, bos), qp);

    if (a.has("--json")) {
        Json j;
        j["scheme"] = qp.quant.scheme;
        j["bits"] = qp.quant.bits;
        j["group"] = qp.quant.group == 0 ? findWeightQuantizer(qp.quant.scheme).defaultGroup : qp.quant.group;
        j["recon"] = reconMethodName(qp.recon);
        j["rank"] = qp.rank;
        j["calib_tokens"] = calib.tokens;
        j["rsq_weighting"] = cp.rsqWeighting;
        j["matrices"] = Json::array();
        for (const QuantMatrixResult& x : r.matrices)
            j["matrices"].push_back({{"name", x.matrix.name}, {"layer", x.matrix.layer},
                                     {"component", x.matrix.component}, {"shape", {x.matrix.rows, x.matrix.cols}},
                                     {"weight_rel_err", number(x.recon.weightRelErr)},
                                     {"output_rel_err", number(x.recon.outputRelErr)}, {"mse", number(x.recon.mse)},
                                     {"weight_rel_err_quant", number(x.quant.weightRelErr)},
                                     {"output_rel_err_quant", number(x.quant.outputRelErr)}});
        if (qp.evaluate) {
            j["ppl"] = number(r.ppl);
            j["ppl_fp"] = number(r.pplFp);
            j["kl"] = number(r.kl);
            j["top1_agreement"] = number(r.top1Agreement);
            j["eval_tokens"] = r.evalTokens;
        }
        std::cout << j.dump(1) << "\n";
        return 0;
    }
    std::printf("%s %d-bit, reconstruction %s rank %d, calibration %lld tokens\n", qp.quant.scheme.c_str(),
                qp.quant.bits, reconMethodName(qp.recon), qp.rank, (long long)calib.tokens);
    std::printf("%-44s %5s %-5s %10s %10s %10s %10s\n", "name", "layer", "comp", "w_err_q", "out_err_q", "w_err",
                "out_err");
    for (const QuantMatrixResult& x : r.matrices)
        std::printf("%-44s %5d %-5s %10.5f %10.5f %10.5f %10.5f\n", x.matrix.name.c_str(), x.matrix.layer,
                    x.matrix.component.c_str(), x.quant.weightRelErr, x.quant.outputRelErr, x.recon.weightRelErr,
                    x.recon.outputRelErr);
    if (qp.evaluate)
        std::printf("perplexity %.4f (full precision %.4f), next-token KL %.6f, top-1 agreement %.4f on %lld tokens\n",
                    r.ppl, r.pplFp, r.kl, r.top1Agreement, (long long)r.evalTokens);
    return 0;
}

int verbKvQuant(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert({"--method", "--bits", "--group", "--residual", "--sink", "--k-clip", "--v-clip", "--high-bits",
                   "--low-ratio", "--seed", "--granularity", "--smooth-k", "--smooth-q"});
    auto flags = kModelFlags;
    flags.insert({"--fp8", "--no-fp16-params"});
    const CliArgs a(argv, valued, flags);
    const std::string method = a.str("--method", "kivi");
    const bool sage = method == "sage";
    KvQuantParams kp;
    ScoreQuantParams sp;
    if (sage) {
        sp.bits = a.integer("--bits", 8);
        sp.groups = parseScoreGroups(a.str("--granularity", "thread"));
        sp.smoothK = boolOption(a, "--smooth-k", true);
        sp.smoothQ = boolOption(a, "--smooth-q", false);
        sp.fp8PV = a.has("--fp8");
        if (sp.fp8PV && !fp8Supported())
            std::fprintf(stderr, "note: this libtorch has no Float8; P and V stay in fp32\n");
    } else {
        kp.method = parseKvMethod(method);
        kp.bits = a.integer("--bits", 2);
        kp.group = a.integer("--group", 0);
        kp.residual = a.integer("--residual", -1);
        kp.sink = a.integer("--sink", -1);
        kp.fp16Params = !a.has("--no-fp16-params");
        if (kp.method == KvMethod::Oscar) {
            kp.kClip = a.number("--k-clip", kp.kClip);
            kp.vClip = a.number("--v-clip", kp.vClip);
        }
        kp.zipHighBits = a.integer("--high-bits", kp.zipHighBits);
        kp.zipLowRatio = a.number("--low-ratio", kp.zipLowRatio);
        kp.seed = uint64_t(a.integer64("--seed", 0));
    }
    auto inspector = openInspector(a);
    const std::vector<int32_t> ids = promptIds(a, *inspector);
    inspector->setPromptIds(ids);
    const AttnQuantResult r = sage ? inspector->scoreQuant(sp) : inspector->kvQuant(kp);

    if (a.has("--json")) {
        Json j;
        j["method"] = r.method;
        j["bits"] = sage ? sp.bits : kp.bits;
        j["bits_k"] = r.bitsK;
        j["bits_v"] = r.bitsV;
        if (sage) j["bits_q"] = r.bitsQ;
        if (sage) j["fp8_applied"] = r.fp8Applied;
        j["tokens"] = r.T;
        j["layers"] = Json::array();
        for (int l = 0; l < r.nLayers; ++l) {
            Json heads = Json::array();
            double se = 0, kl = 0, oe = 0;
            for (int h = 0; h < r.nHeads; ++h) {
                const HeadError& e = r.heads[size_t(l * r.nHeads + h)];
                heads.push_back({{"head", h}, {"score_rel_err", number(e.scoreRelErr)},
                                 {"score_max_abs", number(e.scoreMaxAbs)}, {"kl_mean", number(e.klMean)},
                                 {"kl_max", number(e.klMax)}, {"tv_mean", number(e.tvMean)},
                                 {"out_rel_err", number(e.outRelErr)}});
                se += e.scoreRelErr / r.nHeads;
                kl += e.klMean / r.nHeads;
                oe += e.outRelErr / r.nHeads;
            }
            const TokenErrors& t = r.tokens[size_t(l)];
            j["layers"].push_back({{"layer", l}, {"score_rel_err", number(se)}, {"kl_mean", number(kl)},
                                   {"out_rel_err", number(oe)}, {"heads", std::move(heads)},
                                   {"token_key_share", t.keyShare}, {"token_out_err", t.queryOutErr},
                                   {"token_key_rel_err", t.keyRelErr}, {"token_value_rel_err", t.valueRelErr}});
        }
        if (!sage) j["high_precision"] = r.highPrecision;
        std::cout << j.dump(1) << "\n";
        return 0;
    }
    std::printf("%s: %lld tokens, effective bits K %.3f V %.3f%s\n", r.method.c_str(), (long long)r.T, r.bitsK,
                r.bitsV, sage ? "" : " per element");
    std::printf("layer  score_err   kl_mean     out_err    top key tokens by share of the score error\n");
    for (int l = 0; l < r.nLayers; ++l) {
        double se = 0, kl = 0, oe = 0;
        for (int h = 0; h < r.nHeads; ++h) {
            const HeadError& e = r.heads[size_t(l * r.nHeads + h)];
            se += e.scoreRelErr / r.nHeads;
            kl += e.klMean / r.nHeads;
            oe += e.outRelErr / r.nHeads;
        }
        const std::vector<float>& share = r.tokens[size_t(l)].keyShare;
        std::vector<size_t> order(share.size());
        std::iota(order.begin(), order.end(), 0);
        const size_t top = std::min<size_t>(3, order.size());
        std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(top), order.end(),
                          [&](size_t x, size_t y) { return share[x] > share[y]; });
        std::printf("%5d  %9.5f  %9.6f  %9.5f  ", l, se, kl, oe);
        for (size_t i = 0; i < top; ++i)
            std::printf(" %zu:%s (%.2f)", order[i], inspector->piece(ids[order[i]]).c_str(), share[order[i]]);
        std::printf("\n");
    }
    return 0;
}

}  // namespace attnscope::app
