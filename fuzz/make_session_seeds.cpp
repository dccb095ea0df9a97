// Writes the seed sessions of fuzz/corpus/session (run once; the outputs are committed):
// small files that every panel codec accepts (fuzz/session_seeds.h).
#include <cstdio>

#include "session_seeds.h"

int main(int argc, char** argv) {
    using namespace attnscope;
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_session_seeds OUTDIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    saveSession(dir + "/attention_heads.attnscope", fuzz::attentionHeadsSeed());
    saveSession(dir + "/weibull_sinks.attnscope", fuzz::weibullSinksSeed());
    saveSession(dir + "/kv_quant.attnscope", fuzz::kvQuantSeed());
    saveSession(dir + "/interventions.attnscope", fuzz::interventionsSeed());
    return 0;
}
