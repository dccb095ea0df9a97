// Model's private state, shared by model.cpp and model_run.cpp.
#pragma once
#include <c10/util/Exception.h>

#include <memory>
#include <string>

#include "attnscope/error.h"
#include "attnscope/model.h"
#include "attnscope/tokenizer.h"
#include "io/safetensors.h"
#include "runtime/decoder.h"

namespace attnscope {

struct Model::Impl {
    core::Decoder decoder;
    ModelInfo info;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<io::WeightSet> files;  // safetensors models: the mapped files, for weight analyses
};

// Fills impl.info from the decoder's config.
void fillInfo(Model::Impl& impl, const std::string& path, Device device, DType dtype);

// Runs f, mapping torch's exceptions (allocation failures above all) to attnscope::Error.
template <class F>
auto guardTorch(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Error&) {
        throw;
    } catch (const c10::Error& e) {
        const std::string msg = e.what_without_backtrace();
        if (msg.find("out of memory") != std::string::npos || msg.find("can't allocate") != std::string::npos ||
            msg.find("Tried to allocate") != std::string::npos)
            throw Error(ErrorKind::OutOfMemory, "out of memory: " + msg.substr(0, msg.find('\n')));
        throw Error(ErrorKind::Internal, "torch error: " + msg.substr(0, 500));
    } catch (const std::bad_alloc&) {
        throw Error(ErrorKind::OutOfMemory, "out of host memory");
    }
}

}  // namespace attnscope
