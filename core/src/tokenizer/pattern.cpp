#include "tokenizer/pattern.h"

namespace attnscope::tok {

Pattern::Pattern(const JsonCtx& ctx, const json& spec) {
    if (!spec.is_object()) badInput(ctx, "\"pattern\" must be an object");
    if (hasField(spec, "String")) {
        m_literal = stringField(ctx, spec, "String");
    } else if (hasField(spec, "Regex")) {
        m_regex = std::make_unique<Regex>(stringField(ctx, spec, "Regex"), ctx.file);
    } else {
        badInput(ctx, "\"pattern\" must hold \"String\" or \"Regex\"");
    }
}

std::vector<std::pair<size_t, size_t>> Pattern::findAll(std::string_view s) const {
    if (m_regex) return m_regex->findAll(s);
    std::vector<std::pair<size_t, size_t>> out;
    if (m_literal.empty()) return out;
    for (size_t p = s.find(m_literal); p != std::string_view::npos; p = s.find(m_literal, p)) {
        out.emplace_back(p, p + m_literal.size());
        p += m_literal.size();
    }
    return out;
}

std::string Pattern::replaceAll(std::string_view s, std::string_view content) const {
    std::string out;
    out.reserve(s.size());
    size_t prev = 0;
    for (const auto& [b, e] : findAll(s)) {
        out.append(s.substr(prev, b - prev));
        out.append(content);
        prev = e;
    }
    out.append(s.substr(prev));
    return out;
}

}  // namespace attnscope::tok
