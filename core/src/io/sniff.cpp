// What kind of model file a path holds, from magic bytes first and the extension second.
// Reads at most 16 bytes; never parses, executes or unpickles anything.
#include "io/safetensors.h"

#include "io/io_detail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace attnscope::io {

using namespace detail;

const char* fileKindName(FileKind kind) {
    switch (kind) {
    case FileKind::Safetensors: return "safetensors";
    case FileKind::SafetensorsIndex: return "safetensors index";
    case FileKind::PyTorchZip: return "PyTorch zip checkpoint";
    case FileKind::PyTorchPickle: return "PyTorch pickle checkpoint";
    case FileKind::GGUF: return "GGUF";
    case FileKind::Llama2c: return "llama2.c checkpoint";
    case FileKind::Directory: return "directory";
    case FileKind::Unknown: return "unknown";
    }
    return "unknown";
}

FileKind sniffModelFile(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        int e = errno;
        fail(kindForErrno(e), path + ": " + errnoText(e));
    }
    if (S_ISDIR(st.st_mode)) return FileKind::Directory;
    if (!S_ISREG(st.st_mode)) return FileKind::Unknown;

    uint8_t m[16] = {};
    size_t got = 0;
    {
        Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
        if (f.fd < 0) {
            int e = errno;
            fail(kindForErrno(e), path + ": cannot open: " + errnoText(e));
        }
        while (got < sizeof m) {
            ssize_t r = ::read(f.fd, m + got, sizeof m - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += size_t(r);
        }
    }
    std::string name = std::filesystem::path(path).filename().string();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    const uint64_t size = uint64_t(st.st_size);

    if (got >= 4 && std::memcmp(m, "PK\x03\x04", 4) == 0) return FileKind::PyTorchZip;
    if (got >= 4 && std::memcmp(m, "GGUF", 4) == 0) return FileKind::GGUF;
    // Before the pickle test: a header length like 0x0280 also starts with 0x80 0x02.
    if (got >= 9) {
        const uint64_t n = readLE64(m);
        if (n >= 2 && n <= kMaxHeaderBytes && n <= size - 8 && m[8] == '{')
            return FileKind::Safetensors;
    }
    // PROTO opcode (0x80) with protocol 2..5, then a plausible opcode: printable ASCII or
    // 0x80..0x95. A llama2.c header (int32 dim = 640: 80 02 00 00) fails the third byte.
    if (got >= 2 && m[0] == 0x80 && m[1] >= 2 && m[1] <= 5 &&
        (got == 2 || (m[2] >= 0x21 && m[2] <= 0x7e) || (m[2] >= 0x80 && m[2] <= 0x95)))
        return FileKind::PyTorchPickle;
    if (endsWith(name, ".index.json")) return FileKind::SafetensorsIndex;
    // A malformed .safetensors still goes to the parser, which says precisely what is wrong.
    if (endsWith(name, ".safetensors")) return FileKind::Safetensors;
    if (endsWith(name, ".bin")) return FileKind::Llama2c;
    return FileKind::Unknown;
}

}  // namespace attnscope::io
