// Across every detected sink (primary, secondary and noise): the norm of the token's MLP
// output at its creation layer against its sink score and its lifetime, with the
// least-squares line and Pearson r (Wong et al.: the MLP output's norm sets a secondary
// sink's score and lifetime). Pure, torch-free and Qt-free (built into attnscope_io), so
// the sinks panel draws it from a stored result without the model.
#pragma once
#include <cstdint>
#include <vector>

#include "attnscope/analyses/sinks.h"

namespace attnscope {

struct SinkScatterPoint {
    int64_t token = 0;
    SinkClass cls = SinkClass::None;
    double mlpNorm = 0;   // ρ_t = ||y^{l_start}_t||
    double score = 0;     // mean s^l_t over the token's sink layers
    double lifetime = 0;  // λ_t, layers
};

struct SinkScatter {
    bool hasMlp = false;                  // the result carries MLP outputs (else no points)
    std::vector<SinkScatterPoint> points; // every sink of the result, by position
    LinearFit scoreFit;                   // score ≈ slope·ρ + intercept
    LinearFit lifetimeFit;                // lifetime ≈ slope·ρ + intercept
};

SinkScatter sinkMlpScatter(const SinkResult& result);

}  // namespace attnscope
