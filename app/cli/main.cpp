// attnscope-cli: headless access to everything the core computes.
#include <cstdio>
#include <new>
#include <string>
#include <vector>

#include "attnscope/error.h"
#include "cli_common.h"

namespace attnscope::app {

int verbInfo(const std::vector<std::string>&);
int verbRun(const std::vector<std::string>&);
int verbAttention(const std::vector<std::string>&);
int verbStats(const std::vector<std::string>&);
int verbDump(const std::vector<std::string>&);
int verbWeibull(const std::vector<std::string>&);
int verbTrainTokenizer(const std::vector<std::string>&);
int verbTrain(const std::vector<std::string>&);
int verbEval(const std::vector<std::string>&);
int verbTokenize(const std::vector<std::string>&);
int verbSinks(const std::vector<std::string>&);
int verbQuant(const std::vector<std::string>&);
int verbKvQuant(const std::vector<std::string>&);
int verbA3(const std::vector<std::string>&);
int verbVariants(const std::vector<std::string>&);
int verbKv(const std::vector<std::string>&);
int verbKvSweep(const std::vector<std::string>&);
int verbSession(const std::vector<std::string>&);
int verbExport(const std::vector<std::string>&);
// attnscope-cli <id> for every registered analysis with `verb` set (verbs_analysis.cpp).
std::vector<CliVerb> analysisVerbs();

// The verb registry: one line per verb.
const std::vector<CliVerb>& cliVerbs() {
    static const std::vector<CliVerb> verbs = [] {
    std::vector<CliVerb> v = {
        {"info", "", "architecture, layers, heads, KV heads, head dim, vocab, context, parameters", verbInfo},
        {"run", "[--generate N] [--temperature T --top-p P --seed S]", "tokens of the prompt, next-token top 10, greedy continuation", verbRun},
        {"attention", "--layer L --head H --out FILE.csv", "full T x T probabilities of one query head", verbAttention},
        {"stats", "[--min-query-pos P] [--block B] [--window-last W] [--during-forward]",
         "per-head column sums, causal column means and row entropy of every layer (JSON)", verbStats},
        {"dump", "--out FILE.safetensors [--no-attentions]",
         "logits, hidden states and attention maps of the prompt as safetensors", verbDump},
        {"weibull", "[--protocol exact|hist] [--trim mid80|mid90|full] [--subsample N --seed S] [--csv FILE]",
         "Weibull k, lambda, R2, KS and class of |w| for every weight matrix (no prompt)", verbWeibull},
        {"train-tokenizer", "--corpus DIR --out DIR [--vocab 4096]", "learn a byte-level BPE tokenizer (tokenizer.json)",
         verbTrainTokenizer},
        {"train", "--corpus DIR --tokenizer DIR --out DIR [--steps N --batch B --device cuda --snapshots 0,500 ...]",
         "train a llama-family model from scratch (resumable)", verbTrain},
        {"eval", "--corpus DIR", "held-out loss and perplexity, and the unigram baseline's", verbEval},
        {"tokenize", "--tokenizer DIR --prompt TEXT", "token ids of a text (JSON)", verbTokenize},
        {"sinks", "[--epsilon E] [--cos-threshold C] [--min-query-pos P] [--rule R] [--source S] [--bos 0,1]", "attention sinks: primary, secondary, levels, per-layer views (JSON)", verbSinks},
        {"quant", "--scheme rtn-sym|rtn-asym|mxint|nf4 --bits B [--group G] [--recon lorc|lqer|qera-approx|qera-exact --rank R] [--calib-file F] [--eval-file F]",
         "fake-quantize every linear layer: per-matrix weight/output error, perplexity and KL vs full precision", verbQuant},
        {"a3", "[--ranks 0.125,0.25,0.5,0.75,1] [--component qk|ov|mlp|all] [--baseline] [--calib-file F] [--holdout 0.5] [--a3-rope pre_rope|freq_pairs|no_rotary_cut] [--no-refit] [--apply RATIO | --apply-epsilon E | --apply-layers F,F,..] [--apply-components qk,ov,mlp] [--continuation N]",
         "A^3 low-rank attention: each layer's QK, OV and MLP error against rank, A^3 vs plain SVD / magnitude, KV bytes/token", verbA3},
        {"variants", "--layer L [--head H] [--variant a,b|all] [--param [name.]k=v ...] [--substitute | --all-layers] [--continuation N] [--out FILE.csv] | --list",
         "attention variants (linear, sparse, Sinkhorn, binary, ...) on one layer's q, k, v: output error, row KL, entropy gap, rank vs softmax; end-to-end KL and perplexity", verbVariants},
        {"kvquant", "--method kivi|hadamard|oscar|zipcache-mixed|sage --bits B [--group G] [--residual R] [--sink S]",
         "quantize the prompt's KV cache (or Q/K scores): per layer/head score, KL and output errors", verbKvQuant},
        {"kv", "--policy NAME --budget B [--window W --kernel K --pool avg|max --sink N --recent R --heavy H --gqa none|mean|max|sum --mode prefill|decode --continuation-file F | --continuation N]",
         "KV-cache eviction: kept tokens per layer/head, retained mass, output error, KL/top-1/perplexity (JSON)", verbKv},
        {"kv-sweep", "--policies a,b,c|all --budgets 16,32,64 [--csv FILE] [policy options]",
         "KV-cache eviction fidelity over policies x budgets (CSV)", verbKvSweep},
        {"session", "--out FILE.attnscope [--panels attention,heads,sinks,weibull,kv,quant] [--layer L --head H] [--max-map N] [sink/weibull options] "
                    "[--policy P --budget B --compare P2 --policies a,b|all --budgets 16,32 | --sweep-csv F, policy options] "
                    "[--quant-scheme S --quant-bits N --quant-group G --quant-rank R --quant-methods none,qera-exact --quant-error output|weight]",
         "compute every panel's results and save a session the GUI opens", verbSession},
        {"export", "--figure NAME --out FILE.png|svg|pdf|csv | --all --out-dir DIR [--formats png,svg,pdf] | --list-figures  [--session F] [--layer L --head H] [--opt k=v,...] [--style light|print] [--dpi N --width W --height H]",
         "publication figures of any panel, headless (same rendering as the GUI)", verbExport},
    };
    for (CliVerb& a : analysisVerbs()) v.push_back(std::move(a));
    return v;
    }();
    return verbs;
}

void printHelp() {
    std::printf(
        "usage: attnscope-cli VERB [options]\n\n"
        "Model options (all verbs):\n"
        "  --model PATH        HF model directory, .safetensors file (config.json beside it),\n"
        "                      or llama2.c .bin (default: the built-in model when installed)\n"
        "  --tokenizer PATH    tokenizer.bin (llama2.c) or tokenizer.json override\n"
        "  --step N            a checkpoint of a series (series.json), e.g. the built-in model's\n"
        "  --device cpu|cuda   --dtype fp32|bf16|fp16\n"
        "  --prompt TEXT | --prompt-file FILE | --ids 1,2,3\n"
        "  --no-bos            do not add the BOS token the tokenizer asks for\n"
        "  --json              machine-readable output on stdout\n\nVerbs:\n");
    for (const CliVerb& v : cliVerbs())
        std::printf("  %-10s %s\n             %s\n", v.name.c_str(), v.usage.c_str(), v.help.c_str());
    std::printf("\nExit codes: 0 ok, 2 bad input, 1 internal failure.\n");
}

}  // namespace attnscope::app

int main(int argc, char** argv) {
    using namespace attnscope;
    using namespace attnscope::app;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        printHelp();
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        std::printf("attnscope-cli %s\n", ATTNSCOPE_VERSION);
        return 0;
    }
    for (const CliVerb& v : cliVerbs()) {
        if (args[0] != v.name) continue;
        try {
            return v.run(std::vector<std::string>(args.begin() + 1, args.end()));
        } catch (const Error& e) {
            std::fprintf(stderr, "attnscope-cli %s: %s: %s\n", v.name.c_str(), errorKindName(e.kind()), e.what());
            const bool userFault = e.kind() == ErrorKind::BadInput || e.kind() == ErrorKind::NotFound ||
                                   e.kind() == ErrorKind::Unsupported;
            return userFault ? 2 : 1;
        } catch (const std::bad_alloc&) {  // host allocations outside the core's torch guard
            std::fprintf(stderr, "attnscope-cli %s: out of memory\n", v.name.c_str());
            return 1;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "attnscope-cli %s: internal error: %s\n", v.name.c_str(), e.what());
            return 1;
        }
    }
    std::fprintf(stderr, "attnscope-cli: unknown verb '%s' (see --help)\n", args[0].c_str());
    return 2;
}
