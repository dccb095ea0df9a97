#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "attnscope/error.h"
#include "io/io_detail.h"

namespace attnscope::io {

using namespace detail;

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

void writeFileAtomic(const std::string& path, const std::vector<std::pair<const void*, size_t>>& chunks) {
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
    for (const auto& [p, n] : chunks) writeAll(tmp, path, p, n);
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

void writeFileAtomic(const std::string& path, std::string_view contents) {
    writeFileAtomic(path, {{contents.data(), contents.size()}});
}

}  // namespace attnscope::io
