#include "model_locator.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace attnscope::app {

bool needsTokenizerFile(const QString& modelPath) {
    const QFileInfo info(modelPath);
    return info.isFile() && info.suffix().compare(QLatin1String("bin"), Qt::CaseInsensitive) == 0;
}

bool looksLikeTokenizer(const QString& path) {
    const QString name = QFileInfo(path).fileName().toLower();
    return name == QLatin1String("tokenizer.json") ||
           (name.startsWith(QLatin1String("tok")) && name.endsWith(QLatin1String(".bin")));
}

QStringList tokenizerCandidates(const QString& modelPath) {
    const QFileInfo model(modelPath);
    const QDir dir = model.absoluteDir();
    QStringList found;
    if (dir.exists(QStringLiteral("tokenizer.bin"))) found << dir.filePath(QStringLiteral("tokenizer.bin"));
    const QStringList toks = dir.entryList({QStringLiteral("tok*.bin")}, QDir::Files, QDir::Name);
    for (const QString& name : toks) {
        const QString path = dir.filePath(name);
        if (!found.contains(path) && name != model.fileName()) found << path;
    }
    return found;
}

std::optional<ModelRequest> requestFromPaths(const QStringList& paths) {
    ModelRequest request;
    for (const QString& p : paths) {
        const bool tokenizer = paths.size() > 1 && looksLikeTokenizer(p) && QFileInfo(p).isFile();
        QString& slot = tokenizer ? request.tokenizer : request.path;
        if (!slot.isEmpty()) return std::nullopt;  // two models or two tokenizers: ambiguous
        slot = p;
    }
    if (request.path.isEmpty()) return std::nullopt;
    if (request.tokenizer.isEmpty() && needsTokenizerFile(request.path)) {
        const QStringList candidates = tokenizerCandidates(request.path);
        if (!candidates.isEmpty()) request.tokenizer = candidates.first();
    }
    return request;
}

QString defaultModelDir() {
    const QString sub = QStringLiteral("models/attnscope-tiny");
    const QStringList roots = {
        QCoreApplication::applicationDirPath() + QStringLiteral("/../share/attnscope"),
        QStringLiteral(ATTNSCOPE_INSTALL_DATADIR),
        QStringLiteral("/usr/share/attnscope"),
        QStringLiteral(ATTNSCOPE_SOURCE_RESOURCES),
    };
    for (const QString& root : roots) {
        const QDir dir(root + QLatin1Char('/') + sub);
        if (dir.exists() && !dir.isEmpty()) return dir.absolutePath();
    }
    return {};
}

}  // namespace attnscope::app
