// Runs attnscope-cli (path compiled in by tests/CMakeLists.txt) and collects its output.
#pragma once
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

inline QString idsArg(const std::vector<int32_t>& ids) {
    QStringList s;
    for (int32_t i : ids) s << QString::number(i);
    return s.join(',');
}

}  // namespace clitest
