// Attention entropy by layer: how spread each layer's attention is at every query position.
//   H^l_i = mean over query heads h of −Σ_{j<=i} A^{l,h}_{ij} ln A^{l,h}_{ij}   (nats)
// Row i sees i + 1 keys, so 0 <= H^l_i <= ln(i + 1) (uniform attention). From the exact
// statistics pass (no T x T matrix). The result type, its computation and its session codec.
#pragma once
#include <cstdint>
#include <vector>

#include "attnscope/job.h"
#include "attnscope/session.h"

namespace attnscope {

class Trace;

struct EntropyProfile {
    int nLayers = 0;
    int64_t tokens = 0;
    std::vector<float> entropy;    // [L, T] H^l_i, mean over query heads
    std::vector<float> layerMean;  // [L] mean over rows of H^l_i
    float at(int layer, int64_t query) const { return entropy[size_t(int64_t(layer) * tokens + query)]; }
};

EntropyProfile computeEntropyProfile(const Trace& trace, const JobControl& job = {});

// Session section "entropy" (docs/session-format.md): tensors entropy [L, T] and layer_mean [L].
SessionSection encodeEntropyProfile(const EntropyProfile& e);
EntropyProfile decodeEntropyProfile(const SessionSection& s);  // throws Error(BadInput)

}  // namespace attnscope
