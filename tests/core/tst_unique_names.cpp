// One name, one definition: no two product files define the same namespace-scope type (a
// one-definition-rule violation is undefined behaviour that can corrupt memory: two
// `attnscope::KvTensors` with different members once did), and no two core sources share a
// file name (two kv_metrics.cpp once did). Reads the source tree as text.
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QFile>
#include <QRegularExpression>
#include <QtTest>

#include <map>
#include <set>

namespace {

QString sourceRoot() { return QDir(QStringLiteral(ATTNSCOPE_TEST_DATA_DIR "/../..")).canonicalPath(); }

// The text with comments, string and character literals and preprocessor lines blanked.
QString stripped(const QString& in) {
    QString out;
    out.reserve(in.size());
    enum { Code, Line, Block, Str, Chr } state = Code;
    bool lineStart = true;
    for (qsizetype i = 0; i < in.size(); ++i) {
        const QChar c = in[i], n = i + 1 < in.size() ? in[i + 1] : QChar();
        switch (state) {
        case Code:
            if (c == '/' && n == '/') state = Line;
            else if (c == '/' && n == '*') state = Block, ++i;
            else if (c == '"') state = Str;
            else if (c == '\'') state = Chr;
            else if (c == '#' && lineStart) state = Line;
            else out += c;
            break;
        case Line:
            if (c == '\n') state = Code, out += c;
            break;
        case Block:
            if (c == '*' && n == '/') state = Code, ++i;
            break;
        case Str:
        case Chr:
            if (c == '\\') ++i;
            else if (c == (state == Str ? '"' : '\'')) state = Code, out += ' ';
            break;
        }
        if (c == '\n') lineStart = true;
        else if (!c.isSpace()) lineStart = false;
    }
    return out;
}

// Fully qualified names of the types a file defines at namespace scope (named namespaces only:
// types in anonymous namespaces are private to their translation unit).
QStringList namespaceScopeTypes(const QString& text) {
    static const QRegularExpression head(QStringLiteral(
        R"(^(?:template\s*<[^{};]*>\s*)?(?:struct|class|union|enum(?:\s+class|\s+struct)?)\s+(?:\[\[[^\]]*\]\]\s*)?([A-Za-z_][\w:]*)\b[^;()]*$)"));
    static const QRegularExpression ns(QStringLiteral(R"(^(?:inline\s+)?namespace\s*([\w:]*)\s*$)"));
    struct Scope {
        enum Kind { Namespace, Anonymous, Type, Other } kind;
        QString name;
    };
    std::vector<Scope> stack;
    QStringList found;
    QString statement;
    for (const QChar c : text) {
        if (c == '{') {
            const QString s = statement.simplified();
            statement.clear();
            QRegularExpressionMatch m = ns.match(s);
            if (m.hasMatch()) {
                stack.push_back({m.captured(1).isEmpty() ? Scope::Anonymous : Scope::Namespace, m.captured(1)});
                continue;
            }
            m = head.match(s);
            if (m.hasMatch()) {
                bool atNamespaceScope = true;
                QStringList qualified;
                for (const Scope& sc : stack) {
                    if (sc.kind != Scope::Namespace) atNamespaceScope = false;
                    qualified << sc.name;
                }
                if (atNamespaceScope) found << (qualified << m.captured(1)).join(QStringLiteral("::"));
                stack.push_back({Scope::Type, m.captured(1)});
                continue;
            }
            stack.push_back({Scope::Other, {}});
        } else if (c == '}') {
            statement.clear();
            if (!stack.empty()) stack.pop_back();
        } else if (c == ';') {
            statement.clear();
        } else {
            statement += c;
        }
    }
    return found;
}

QStringList productSources() {
    QStringList files;
    for (const char* dir : {"core", "widgets", "app"}) {
        QDirIterator it(sourceRoot() + QLatin1Char('/') + QLatin1String(dir),
                        {QStringLiteral("*.h"), QStringLiteral("*.cpp"), QStringLiteral("*.cu"), QStringLiteral("*.cuh")},
                        QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) files << it.next();
    }
    files.sort();
    return files;
}

}  // namespace

class TestUniqueNames : public QObject {
    Q_OBJECT
private slots:
    void parserFindsNamespaceScopeTypes() {
        const QString text = QStringLiteral(
            "namespace a { struct X { struct Inner { int i; }; }; // struct Y { int c; };\n"
            "namespace { struct Hidden { int h; }; }\n"
            "class Z final : public X { void f() { struct Local { int l; }; } };\n struct X::Impl { int p; };\n"
            "enum class E { A, B };\n struct Fwd;\n const char* s = \"struct S { }\";\n}\n"
            "namespace b::c { template <class T> struct T1 { T t; }; }\n");
        QCOMPARE(namespaceScopeTypes(stripped(text)),
                 QStringList({"a::X", "a::Z", "a::X::Impl", "a::E", "b::c::T1"}));
    }

    void noTypeIsDefinedTwice() {
        std::map<QString, QStringList> where;
        const QStringList files = productSources();
        QVERIFY2(files.size() > 100, qPrintable(QStringLiteral("too few sources under %1").arg(sourceRoot())));
        for (const QString& path : files) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            for (const QString& type : namespaceScopeTypes(stripped(QString::fromUtf8(f.readAll()))))
                where[type] << QDir(sourceRoot()).relativeFilePath(path);
        }
        QStringList twice;
        for (const auto& [type, files] : where)
            if (files.size() > 1) twice << type + QStringLiteral(" in ") + files.join(QStringLiteral(", "));
        QVERIFY2(twice.isEmpty(), qPrintable(twice.join(QLatin1Char('\n'))));
        QVERIFY(where.count(QStringLiteral("attnscope::KvEvictionTensors")));  // the scan sees core/src
        QVERIFY(where.count(QStringLiteral("attnscope::QkvTensors")));
    }

    void coreSourceNamesAreUnique() {
        std::map<QString, QStringList> byName;
        for (const QString& path : productSources())
            if (path.contains(QStringLiteral("/core/src/"))) byName[QFileInfo(path).fileName()] << path;
        QStringList twice;
        for (const auto& [name, paths] : byName)
            if (paths.size() > 1) twice << name;
        QVERIFY2(twice.isEmpty(), qPrintable(twice.join(QStringLiteral(", "))));
    }
};

QTEST_GUILESS_MAIN(TestUniqueNames)
#include "tst_unique_names.moc"
