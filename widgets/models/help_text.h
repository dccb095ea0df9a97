// Help texts looked up by key (the panels' "?" buttons and figure descriptions): each entry
// is a translatable text, marked with QT_TRANSLATE_NOOP in its table, and the source it cites.
#pragma once
#include <span>

#include <QString>

namespace attnscope::widgets {

struct HelpText {
    const char* key;
    const char* text;              // untranslated, in the table's translation context
    const char* source = nullptr;  // cited below the text; nullptr: none
};

// "<br><i>Source: ...</i>": the line under a help text that names its paper.
QString citeSource(const char* source);

// The entry for `which`, translated in `context` and followed by its citation; empty when the
// table has no such key.
QString lookUpHelp(std::span<const HelpText> table, const char* context, const char* which);

}  // namespace attnscope::widgets
