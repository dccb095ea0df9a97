// Runs attnscope-cli (path compiled in by tests/CMakeLists.txt) and collects its output.
#pragma once
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

#include <cstdint>
#include <vector>

namespace clitest {

struct Result {
    int code = -1;
    QByteArray out, err;
};

inline Result cli(const QStringList& args, int timeoutMs = 300000) {
    QProcess p;
    p.start(QStringLiteral(ATTNSCOPE_CLI_PATH), args);
    p.waitForFinished(timeoutMs);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

// A verb's --json output as an object (empty, with a warning naming the exit code and
// stderr, when it failed).
inline QJsonObject cliJson(const QStringList& args, Result* raw = nullptr) {
    const Result r = cli(args + QStringList{"--json"});
    if (raw) *raw = r;
    if (r.code != 0) qWarning("exit %d: %s", r.code, r.err.constData());
    return QJsonDocument::fromJson(r.out).object();
}

inline QString idsArg(const std::vector<int32_t>& ids) {
    QStringList s;
    for (int32_t i : ids) s << QString::number(i);
    return s.join(',');
}

}  // namespace clitest
