// Core-internal access to a Model's decoder, for analyses that run or rebuild it (the
// quantization lab's calibration and fake-quantized copies). Not for code outside core.
#pragma once
#include <memory>
#include <utility>

#include "model/model_impl.h"

namespace attnscope {

struct ModelAccess {
    static const Model::Impl& impl(const Model& model) { return *model.m; }
    // The live decoder, for the Inspector's A^3 "apply to model" (tokenizer and files stay).
    static core::Decoder& decoder(Model& model) { return model.m->decoder; }
    // A model around a new decoder (same config, device and dtype as `like`'s, other
    // weights); no tokenizer and no files, so weights are listed under canonical names.
    static std::unique_ptr<Model> withDecoder(const Model& like, core::Decoder decoder) {
        auto impl = std::make_unique<Model::Impl>(Model::Impl{std::move(decoder), like.m->info, nullptr, nullptr});
        return std::unique_ptr<Model>(new Model(std::move(impl)));
    }
};

}  // namespace attnscope
