#include "models/help_text.h"

#include <cstring>

#include <QCoreApplication>

namespace attnscope::widgets {

QString citeSource(const char* source) {
    return QStringLiteral("<br><i>Source: %1</i>").arg(QString::fromUtf8(source));
}

QString lookUpHelp(std::span<const HelpText> table, const char* context, const char* which) {
    if (!which) return {};
    for (const HelpText& entry : table) {
        if (std::strcmp(entry.key, which) != 0) continue;
        QString text = QCoreApplication::translate(context, entry.text);
        if (entry.source) text += citeSource(entry.source);
        return text;
    }
    return {};
}

}  // namespace attnscope::widgets
