// Where models and their tokenizers are: what a path names, which tokenizer goes with a
// llama2.c checkpoint, where the built-in default model is installed.
#pragma once
#include <optional>

#include <QString>
#include <QStringList>

#include "attnscope/model.h"

namespace attnscope::app {

struct ModelRequest {
    QString path;       // HF directory, .safetensors file, llama2.c .bin
    QString tokenizer;  // llama2.c tokenizer .bin or a tokenizer.json override; may be empty
    Device device = Device::CPU;
    DType dtype = DType::F32;
};

// llama2.c checkpoints are .bin files and carry no tokenizer of their own.
bool needsTokenizerFile(const QString& modelPath);
bool looksLikeTokenizer(const QString& path);
// Beside a llama2.c checkpoint: tokenizer.bin first, then tok*.bin, sorted.
QStringList tokenizerCandidates(const QString& modelPath);
// A dropped or given set of paths: one model plus, optionally, one tokenizer.
std::optional<ModelRequest> requestFromPaths(const QStringList& paths);
// The built-in attnscope-tiny model (installed data dir, then the source tree); empty
// when none is there.
QString defaultModelDir();

}  // namespace attnscope::app
