// Verbs about the model itself: info, run (tokens, greedy continuation, next-token top 10).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>

#include "attnscope/tokenizer.h"
#include "cli_common.h"

namespace attnscope::app {

int verbInfo(const std::vector<std::string>& argv) {
    const CliArgs a(argv, kModelOptions, kModelFlags);
    auto m = openInspector(a);
    const ModelInfo& i = m->info();
    nlohmann::json j = {{"path", i.path}, {"architecture", i.arch}, {"layers", i.nLayers},
                        {"heads", i.nHeads}, {"kv_heads", i.nKvHeads}, {"head_dim", i.headDim},
                        {"hidden_size", i.dModel}, {"intermediate_size", i.dFF}, {"vocab_size", i.vocabSize},
                        {"context_length", i.contextLength}, {"sliding_window", i.slidingWindow},
                        {"parameters", i.nParams}, {"stored_dtype", i.storedDtype},
                        {"dtype", dtypeName(i.dtype)}, {"device", deviceName(i.device)},
                        {"tokenizer", m->model().tokenizer() != nullptr}};
    if (a.has("--json")) {
        std::cout << j.dump(1) << "\n";
        return 0;
    }
    for (auto it = j.begin(); it != j.end(); ++it) std::printf("%-18s %s\n", it.key().c_str(), it.value().dump().c_str());
    return 0;
}

int verbRun(const std::vector<std::string>& argv) {
    auto valued = kModelOptions;
    valued.insert({"--generate", "--temperature", "--top-p", "--seed"});
    const CliArgs a(argv, valued, kModelFlags);
    auto m = openInspector(a);
    const std::vector<int32_t> ids = promptIds(a, *m);
    const int n = a.integer("--generate", 0);

    TracePolicy light;
    light.keepResidual = light.keepPreRope = light.keepValues = light.keepMlp = false;
    light.keepLogits = false;
    m->setPrompt(ids, {}, light);
    const Matrix2D last = m->trace().logits();  // [1, V]
    std::vector<double> prob(last.data.begin(), last.data.end());
    const double mx = *std::max_element(prob.begin(), prob.end());
    double z = 0;
    for (double& p : prob) z += (p = std::exp(p - mx));
    for (double& p : prob) p /= z;
    std::vector<int32_t> order(prob.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t k = std::min<size_t>(10, order.size());
    std::partial_sort(order.begin(), order.begin() + long(k), order.end(),
                      [&](int32_t x, int32_t y) { return prob[size_t(x)] > prob[size_t(y)]; });

    SamplingOptions so;
    so.temperature = a.number("--temperature", 0.0);
    so.topP = a.number("--top-p", 1.0);
    so.seed = uint64_t(a.integer64("--seed", 0));
    const Generation g = n > 0 ? m->generate(ids, n, true, so) : Generation{};
    const std::string text = m->decode(g.tokens);

    nlohmann::json j;
    j["tokens"] = ids;
    j["pieces"] = nlohmann::json::array();
    for (int32_t id : ids) j["pieces"].push_back(m->piece(id));
    j["generated_tokens"] = g.tokens;
    j["generated_text"] = text;
    j["next_top"] = nlohmann::json::array();
    for (size_t r = 0; r < k; ++r)
        j["next_top"].push_back({{"id", order[r]}, {"piece", m->piece(order[r])}, {"prob", prob[size_t(order[r])]}});
    if (a.has("--json")) {
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    std::printf("%zu tokens:", ids.size());
    for (int32_t id : ids) std::printf(" %d:%s", id, m->piece(id).c_str());
    std::printf("\nnext token:\n");
    for (size_t r = 0; r < k; ++r)
        std::printf("  %6d  %-16s %.4f\n", order[r], m->piece(order[r]).c_str(), prob[size_t(order[r])]);
    if (n > 0) std::printf("generated (%zu tokens): %s\n", g.tokens.size(), text.c_str());
    return 0;
}

}  // namespace attnscope::app
