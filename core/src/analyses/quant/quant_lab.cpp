// The quantization lab's weight side as tables (quant.h, "the lab's pipeline"): what the
// Inspector computes for the GUI's quantization dock and the session's quant section alike.
#include <algorithm>

#include "attnscope/analyses/quant.h"

namespace attnscope {

std::vector<std::vector<int32_t>> promptCalibrationWindows(const Model& model, const std::vector<int32_t>& prompt) {
    const int window = std::min(kCalibrationWindow, std::max(2, model.info().contextLength));
    return splitWindows(prompt, window, -1);
}

QuantLab computeQuantLab(const Model& model, const Calibration& calib, const WeightQuantParams& quant,
                         const JobControl& job) {
    const std::vector<ReconLab> labs = reconLabs(model, calib, quant, {}, job);
    QuantLab out;
    out.quant = quant;
    out.calibTokens = calib.tokens;
    out.matrices = quantMatrices(model);
    for (const ReconLab& lab : labs) {
        out.quantOnly.push_back(lab.quantOnly());
        std::vector<ReconCurve> curves;
        for (ReconMethod m : kReconMethods) curves.push_back(lab.curve(m));
        out.curves.push_back(std::move(curves));
    }
    return out;
}

}  // namespace attnscope
