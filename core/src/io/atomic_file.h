// Crash-safe file replacement: write a temp file beside the target, fsync, rename over it.
// On any failure the previous file is untouched and the temp file is removed.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attnscope::io {

// Writes the chunks in order. Throws attnscope::Error naming `path`.
void writeFileAtomic(const std::string& path, const std::vector<std::pair<const void*, size_t>>& chunks);
void writeFileAtomic(const std::string& path, std::string_view contents);

}  // namespace attnscope::io
