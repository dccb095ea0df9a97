// Atomic safetensors writer: validate, write a temp file beside the target, fsync, rename.
#include "io/safetensors.h"

#include "io/io_detail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace attnscope::io {

using namespace detail;
using nlohmann::json;

namespace {

struct TempFile {  // removes the temp file unless the rename went through
    std::string path;
    int fd = -1;
    bool keep = false;
    ~TempFile() {
        if (fd >= 0) ::close(fd);
        if (!keep) ::unlink(path.c_str());
    }
};

void writeAll(const TempFile& t, const std::string& target, const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    while (n > 0) {
        ssize_t r = ::write(t.fd, c, std::min<size_t>(n, size_t(1) << 30));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) bad(target, "writing " + t.path + " failed: " + errnoText(r < 0 ? errno : EIO));
        c += r;
        n -= size_t(r);
    }
}

}  // namespace

void writeSafetensors(const std::string& path, const std::vector<NamedBuffer>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    // Validate everything and build the header before touching the filesystem.
    std::vector<const NamedBuffer*> order;
    for (const auto& t : tensors) order.push_back(&t);
    std::sort(order.begin(), order.end(),
              [](const NamedBuffer* a, const NamedBuffer* b) { return a->name < b->name; });
    json header = json::object();
    if (!metadata.empty()) {
        json m = json::object();
        for (const auto& [k, v] : metadata) m[k] = v;
        header["__metadata__"] = std::move(m);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        const NamedBuffer& t = *order[i];
        if (t.name == "__metadata__") bad(path, "a tensor cannot be named \"__metadata__\"");
        if (i > 0 && order[i - 1]->name == t.name) bad(path, "tensor " + quote(t.name) + " given twice");
        if (t.shape.size() > kMaxRank) bad(path, "tensor " + quote(t.name) + ": rank exceeds 8");
        auto need = byteSize(t.shape, stDTypeSize(t.dtype));
        if (!need) bad(path, "tensor " + quote(t.name) + ": invalid shape " + formatShape(t.shape));
        if (*need != t.bytes.size())
            bad(path, "tensor " + quote(t.name) + ": shape " + formatShape(t.shape) + " of " +
                          stDTypeName(t.dtype) + " needs " + std::to_string(*need) +
                          " bytes, buffer has " + std::to_string(t.bytes.size()));
        header[t.name] = {{"dtype", stDTypeName(t.dtype)},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + *need}}};
        offset += *need;
    }
    std::string hs;
    try {
        hs = header.dump();
    } catch (const json::exception&) {
        bad(path, "a tensor name or metadata string is not valid UTF-8");
    }
    hs.append((8 - hs.size() % 8) % 8, ' ');  // the spec's padding: data starts 8-aligned
    if (hs.size() > kMaxHeaderBytes) bad(path, "header would exceed the 100 MB limit");
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(hs.size()) >> (8 * i));

    TempFile tmp;
    tmp.path = path + ".tmp-XXXXXX";
    tmp.fd = ::mkstemp(tmp.path.data());
    if (tmp.fd < 0) {
        int e = errno;
        tmp.keep = true;  // nothing was created
        fail(kindForErrno(e), path + ": cannot create a temporary file beside it: " + errnoText(e));
    }
    ::fcntl(tmp.fd, F_SETFD, FD_CLOEXEC);
    // mkstemp makes 0600; keep the mode of the file we replace, else the usual 0644.
    struct stat old {};
    const mode_t mode = (::stat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode))
                            ? (old.st_mode & 07777) : 0644;
    ::fchmod(tmp.fd, mode);

    writeAll(tmp, path, len, sizeof len);
    writeAll(tmp, path, hs.data(), hs.size());
    for (const NamedBuffer* t : order) writeAll(tmp, path, t->bytes.data(), t->bytes.size());
    if (::fsync(tmp.fd) != 0) bad(path, "fsync of " + tmp.path + " failed: " + errnoText(errno));
    const int fd = tmp.fd;
    tmp.fd = -1;
    if (::close(fd) != 0) bad(path, "closing " + tmp.path + " failed: " + errnoText(errno));
    if (::rename(tmp.path.c_str(), path.c_str()) != 0)
        bad(path, "cannot rename " + tmp.path + " over it: " + errnoText(errno));
    tmp.keep = true;
    // Make the rename itself durable; best effort, the data is already safe.
    std::string dir = std::filesystem::path(path).parent_path().string();
    Fd d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd >= 0) ::fsync(d.fd);
}

}  // namespace attnscope::io
