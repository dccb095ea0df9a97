// The dimensions every architecture has. ModelInfo (what a front end sees), RandomModelSpec
// and the decoder's internal ModelConfig all carry them, as this one base.
#pragma once

namespace attnscope {

struct ModelShape {
    int nLayers = 0;
    int nHeads = 0;
    int nKvHeads = 0;
    int headDim = 0;
    int dModel = 0;
    int dFF = 0;
    int vocabSize = 0;
    int contextLength = 0;
};

}  // namespace attnscope
